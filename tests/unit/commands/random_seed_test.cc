#include "src/commands/random_seed.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <thread>

using cascade::commands::random_seed;

TEST_CASE("random seeds do not repeat, on one thread or across threads") {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(random_seed());
  CHECK(seen.size() == 10000);
  std::uint64_t other = 0;
  std::thread([&other] { other = random_seed(); }).join();
  CHECK(seen.count(other) == 0);
  // The bits are spread: over many seeds each of the 64 is set about half the time.
  int ones[64] = {};
  for (std::uint64_t s : seen) {
    for (int b = 0; b < 64; ++b) ones[b] += static_cast<int>((s >> b) & 1);
  }
  for (int b = 0; b < 64; ++b) {
    CHECK(ones[b] > 4500);
    CHECK(ones[b] < 5500);
  }
}
