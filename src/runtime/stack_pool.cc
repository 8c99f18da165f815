#include "src/runtime/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "src/runtime/asan_fiber.h"

namespace cascade::runtime {
namespace {

constexpr std::size_t kPage = 4096;

#ifdef CASCADE_STACK_GUARD
constexpr std::size_t kGuard = kPage;
#else
constexpr std::size_t kGuard = 0;
#endif

void unmap_stack(const boost::context::stack_context& sc) {
  void* base = static_cast<char*>(sc.sp) - sc.size - kGuard;
  // A dead fiber's frames may still be poisoned; the kernel may hand the range to anyone.
  asan::unpoison(static_cast<char*>(sc.sp) - sc.size, sc.size);
  munmap(base, sc.size + kGuard);
}

void* map_stack(std::size_t bytes) {
  void* base = mmap(nullptr, bytes + kGuard, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) {
    std::perror("cascade: mmap of a fiber stack failed");
    std::abort();  // no fiber can run without a stack; running out of address space is fatal
  }
  if (kGuard != 0) mprotect(base, kGuard, PROT_NONE);
  return base;
}

}  // namespace

StackPool::StackPool(StackPoolOptions options) : options_(options) {}

StackPool::~StackPool() {
  for (auto& list : free_) {
    for (auto& sc : list) unmap_stack(sc);
  }
}

std::size_t StackPool::bytes_for(StackSize size) const {
  std::size_t bytes = size == StackSize::kSmall ? options_.small_bytes : options_.large_bytes;
  return (bytes + kPage - 1) / kPage * kPage;
}

boost::context::stack_context StackPool::allocate(StackSize size) {
  auto& list = free_[static_cast<int>(size)];
  if (!list.empty()) {
    auto sc = list.back();
    list.pop_back();
    return sc;
  }
  std::size_t bytes = bytes_for(size);
  void* base = map_stack(bytes);
  ++mapped_;
  boost::context::stack_context sc;
  sc.size = bytes;
  sc.sp = static_cast<char*>(base) + kGuard + bytes;  // stacks grow down from sp
  return sc;
}

void StackPool::deallocate(StackSize size, boost::context::stack_context& sc) {
  auto& list = free_[static_cast<int>(size)];
  std::size_t cap = size == StackSize::kSmall ? options_.max_cached_small : options_.max_cached_large;
  if (list.size() < cap) {
    // The next fiber on this stack starts with fresh frames: clear the old poison.
    asan::unpoison(static_cast<char*>(sc.sp) - sc.size, sc.size);
    list.push_back(sc);
    return;
  }
  unmap_stack(sc);
  --mapped_;
}

}  // namespace cascade::runtime
