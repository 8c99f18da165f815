// Counts every operator new in the unit-resp binary, for the tests that show the parser
// and the reply writer allocate nothing per command once warm.
#include <atomic>
#include <cstdlib>
#include <new>

#include "resp_test_util.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

namespace cascade::resp::testing {
std::uint64_t allocation_count() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace cascade::resp::testing

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
