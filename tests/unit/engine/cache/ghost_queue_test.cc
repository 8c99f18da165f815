#include "engine/cache/ghost_queue.h"

#include <doctest/doctest.h>

#include <map>
#include <random>

#include "tests/support/test_seed.h"

using cascade::engine::GhostQueue;

TEST_CASE("the ghost queue remembers the last N hashes added and forgets older ones") {
  GhostQueue ghost(4);
  for (std::uint64_t h = 1; h <= 6; ++h) ghost.add(h * 1000);
  CHECK(ghost.size() == 4);
  CHECK_FALSE(ghost.contains(1000));
  CHECK_FALSE(ghost.contains(2000));
  for (std::uint64_t h = 3; h <= 6; ++h) CHECK(ghost.contains(h * 1000));
}

TEST_CASE("a taken hash is forgotten and a re-added one keeps its newer position") {
  GhostQueue ghost(3);
  ghost.add(7);
  ghost.add(8);
  CHECK(ghost.take(7));
  CHECK_FALSE(ghost.take(7));
  ghost.add(8);  // 8 again: now the newest
  ghost.add(9);
  ghost.add(10);  // the ring drops its oldest position, 7's stale slot, then 8's older one
  CHECK(ghost.contains(8));
  ghost.add(11);
  CHECK_FALSE(ghost.contains(8));
  CHECK(ghost.contains(9));
}

// The reference: a hash is remembered iff it was added within the last N adds and not
// taken since its latest add.
TEST_CASE("the ghost queue agrees with a reference under random adds and takes") {
  std::uint64_t seed = cascade::testing::test_seed("ghost queue model");
  std::mt19937_64 rng(seed);
  constexpr std::uint64_t kCapacity = 50;
  GhostQueue ghost(kCapacity);
  std::map<std::uint64_t, std::uint64_t> latest_add;  // hash -> sequence of its latest add
  std::uint64_t next = 0;
  auto remembered = [&](std::uint64_t h) {
    auto it = latest_add.find(h);
    return it != latest_add.end() && it->second + kCapacity >= next;
  };
  for (int i = 0; i < 20000; ++i) {
    // Few distinct hashes, many sharing low bits: long probe runs and backward shifts.
    std::uint64_t h = (rng() % 200) << 8;
    if (rng() % 3 == 0) {
      REQUIRE(ghost.take(h) == remembered(h));
      latest_add.erase(h);
    } else {
      ghost.add(h);
      latest_add[h] = next++;
    }
    if (i % 97 == 0) {
      std::size_t live = 0;
      for (std::uint64_t k = 0; k < 200; ++k) {
        REQUIRE(ghost.contains(k << 8) == remembered(k << 8));
        live += remembered(k << 8);
      }
      REQUIRE(ghost.size() == live);
    }
  }
}
