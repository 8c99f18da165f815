#include "engine/memtable/arena.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
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

TEST_CASE("arenas sharing a pool pass their huge blocks on, up to the pool's capacity") {
  auto pool = std::make_shared<HugeBlockPool>(3 * Arena::kHugeBlockSize);
  // Fills an arena into its huge blocks: 4 of them (3 full and the current one).
  // `reused` counts huge blocks that came holding an earlier arena's bytes (a fresh
  // mapping is zeroed): a block's first piece is looked at before it is written.
  std::size_t reused = 0;
  auto fill = [&reused](Arena& arena, std::vector<char*>& huge_starts) {
    std::size_t total = 0;
    while (total < Arena::kHugeAfter + 3 * Arena::kHugeBlockSize) {
      char* at = arena.allocate(200);
      if (reinterpret_cast<std::uintptr_t>(at) % Arena::kHugeBlockSize == 0 &&
          arena.block_count() > Arena::kHugeAfter / Arena::kBlockSize) {
        huge_starts.push_back(at);
        if (at[0] == 0x5a) ++reused;
      }
      std::memset(at, 0x5a, 200);
      total += 200;
    }
  };
  std::vector<char*> first_blocks;
  {
    Arena arena(pool);
    fill(arena, first_blocks);
    CHECK(first_blocks.size() == 4);
    CHECK(reused == 0);
    CHECK(pool->kept_bytes() == 0);
  }
  // The dead arena's blocks went back, but only 3 fit the capacity: one was unmapped.
  CHECK(pool->kept_bytes() == 3 * Arena::kHugeBlockSize);
  std::vector<char*> second_blocks;
  {
    Arena arena(pool);
    fill(arena, second_blocks);
    CHECK(pool->kept_bytes() == 0);  // 3 reused, the 4th mapped fresh
  }
  CHECK(second_blocks.size() == 4);
  CHECK(reused == 3);
  // A smaller capacity unmaps what no longer fits.
  pool->set_capacity(Arena::kHugeBlockSize);
  CHECK(pool->kept_bytes() == Arena::kHugeBlockSize);
  // An arena without a pool keeps nothing for anyone.
  {
    Arena alone;
    std::vector<char*> unused;
    fill(alone, unused);
  }
  CHECK(pool->kept_bytes() == Arena::kHugeBlockSize);
}
