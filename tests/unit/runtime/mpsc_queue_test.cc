#include "src/runtime/mpsc_queue.h"

#include <doctest/doctest.h>

#include "tests/support/test_seed.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

using namespace cascade::runtime;


TEST_CASE("mpsc queue hands values back in push order and refuses a push when full") {
  MpscQueue<int> q(4);
  for (int i = 0; i < 4; ++i) CHECK(q.try_push(int{i}));
  CHECK_FALSE(q.try_push(int{4}));
  CHECK(q.claimed() == 4);
  int v = -1;
  CHECK(q.try_pop(v));
  CHECK(v == 0);
  CHECK(q.try_push(int{4}));  // the freed cell is reused for the next lap
  for (int want = 1; want <= 4; ++want) {
    REQUIRE(q.try_pop(v));
    CHECK(v == want);
  }
  CHECK(q.empty());
  CHECK_FALSE(q.try_pop(v));
  CHECK(q.popped() == 5);
}

TEST_CASE("mpsc queue leaves a refused value untouched and destroys leftovers") {
  auto tracker = std::make_shared<int>(0);
  {
    MpscQueue<std::shared_ptr<int>> q(2);
    CHECK(q.try_push(std::shared_ptr<int>(tracker)));
    CHECK(q.try_push(std::shared_ptr<int>(tracker)));
    std::shared_ptr<int> third = tracker;
    CHECK_FALSE(q.try_push(std::move(third)));
    CHECK(third == tracker);
    CHECK(tracker.use_count() == 4);
  }
  CHECK(tracker.use_count() == 1);
}

TEST_CASE("mpsc queue delivers every value of several producer threads exactly once, "
          "each producer's values in order") {
  const std::uint64_t seed = cascade::testing::test_seed("mpsc queue");
  std::mt19937_64 rng(seed);
  const std::size_t capacity = std::size_t{1} << (1 + rng() % 9);  // 2 .. 512
  const unsigned producers = 3 + static_cast<unsigned>(rng() % 3);
  constexpr std::uint64_t kPerProducer = 300'000;
  INFO("seed " << seed << " capacity " << capacity << " producers " << producers);
  MpscQueue<std::uint64_t> q(capacity);

  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&q, p] {
      for (std::uint64_t i = 0; i < kPerProducer;) {
        // The producer's id in the top byte, its sequence number below.
        if (q.try_push((std::uint64_t{p} << 56) | i)) {
          ++i;
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<std::uint64_t> next(producers, 0);
  std::uint64_t received = 0;
  bool in_order = true;
  while (received < producers * kPerProducer) {
    std::uint64_t v;
    if (!q.try_pop(v)) {
      std::this_thread::yield();
      continue;
    }
    const auto p = static_cast<unsigned>(v >> 56);
    const std::uint64_t seq = v & ((std::uint64_t{1} << 56) - 1);
    if (p >= producers) {
      FAIL("a value no producer pushed: " << v);
    }
    in_order = in_order && seq == next[p];
    next[p] = seq + 1;
    ++received;
  }
  for (auto& t : threads) t.join();
  CHECK(in_order);
  for (unsigned p = 0; p < producers; ++p) CHECK(next[p] == kPerProducer);
  CHECK(q.empty());
}
