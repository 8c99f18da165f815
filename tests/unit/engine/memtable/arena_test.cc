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
        total + Arena::kBlockSize + blocks * 100 + 2 * blocks * 3 * sizeof(void*) + 64);
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

TEST_CASE("past kHugeAfter bytes an arena takes 2 MiB blocks on 2 MiB boundaries") {
  Arena arena;
  std::vector<char*> pieces;
  std::size_t total = 0;
  while (total < Arena::kHugeAfter + 3 * Arena::kHugeBlockSize) {
    char* at = arena.allocate(200);
    std::memset(at, static_cast<char>(pieces.size()), 200);
    pieces.push_back(at);
    total += 200;
  }
  // The small blocks end at kHugeAfter; every block after is a huge one.
  const std::size_t small_blocks = Arena::kHugeAfter / Arena::kBlockSize;
  REQUIRE(arena.block_count() > small_blocks);
  const std::size_t huge_blocks = arena.block_count() - small_blocks;
  CHECK(huge_blocks == 4);  // 3 full ones and the current one
  CHECK(arena.memory_usage() >= Arena::kHugeAfter + huge_blocks * Arena::kHugeBlockSize);
  // The first piece past the small blocks opens a huge block: it sits on a 2 MiB boundary.
  const std::size_t first_huge = Arena::kHugeAfter / Arena::kBlockSize * (Arena::kBlockSize / 200);
  CHECK(reinterpret_cast<std::uintptr_t>(pieces[first_huge]) % Arena::kHugeBlockSize == 0);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    REQUIRE(pieces[i][0] == static_cast<char>(i));
    REQUIRE(pieces[i][199] == static_cast<char>(i));
  }
}
