#include "engine/memtable/arena.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "tests/support/test_seed.h"

using namespace cascade::engine;

TEST_CASE("an unused arena holds no memory") {
  Arena arena;
  CHECK(arena.memory_usage() == 0);
  CHECK(arena.block_count() == 0);
}

TEST_CASE("arena allocations are aligned, disjoint and keep their bytes") {
  std::uint64_t seed = cascade::testing::test_seed("arena");
  MESSAGE("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  Arena arena;
  struct Allocation {
    char* at;
    std::size_t size;
    char fill;
  };
  std::vector<Allocation> allocations;
  for (int i = 0; i < 5000; ++i) {
    std::size_t size = 1 + rng() % (i % 100 == 0 ? 100000 : 300);
    std::size_t alignment = std::size_t{1} << (rng() % 7);  // 1 .. 64
    char* at = arena.allocate_aligned(size, alignment);
    REQUIRE(reinterpret_cast<std::uintptr_t>(at) % alignment == 0);
    auto fill = static_cast<char>(i);
    std::memset(at, fill, size);
    allocations.push_back({at, size, fill});
  }
  std::size_t total = 0;
  for (const Allocation& a : allocations) {
    total += a.size;
    for (std::size_t j = 0; j < a.size; ++j) REQUIRE(a.at[j] == a.fill);
  }
  CHECK(arena.allocated_bytes() == total);
  CHECK(arena.memory_usage() >= total);
}

TEST_CASE("arena memory usage exceeds small allocations by little more than the last block") {
  Arena arena;
  std::size_t total = 0;
  for (int i = 0; i < 10000; ++i) {
    arena.allocate(100);
    total += 100;
  }
  REQUIRE(arena.allocated_bytes() == total);
  // Each finished block abandons a tail shorter than one request.
  std::size_t blocks = arena.block_count();
  CHECK(arena.memory_usage() >= blocks * Arena::kBlockSize);
  CHECK(arena.memory_usage() <=
        total + Arena::kBlockSize + blocks * 100 + 2 * blocks * sizeof(char*) + 64);
}

TEST_CASE("a large allocation gets its own block and the current block keeps serving") {
  Arena arena;
  char* first = arena.allocate(10);
  std::size_t before = arena.memory_usage();
  std::size_t large = 1 << 20;
  char* big = arena.allocate(large);
  std::memset(big, 'x', large);
  char* second = arena.allocate(10);
  CHECK(second == first + 10);  // same block as before the large one
  CHECK(arena.block_count() == 2);
  CHECK(arena.memory_usage() - before >= large);
  CHECK(arena.memory_usage() - before <= large + 64);
}
