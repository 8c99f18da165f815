#include "src/runtime/spsc_queue.h"

#include <doctest/doctest.h>

#include "tests/support/test_seed.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>

#include "src/runtime/task.h"

using namespace cascade::runtime;


TEST_CASE("spsc queue hands values back in push order and refuses a push when full") {
  SpscQueue<int> q(3);  // rounds up to 4
  CHECK(q.capacity() == 4);
  for (int i = 0; i < 4; ++i) CHECK(q.try_push(int{i}));
  int extra = 99;
  CHECK_FALSE(q.try_push(std::move(extra)));
  CHECK_FALSE(q.producer_sees_space());
  int v = -1;
  CHECK(q.try_pop(v));
  CHECK(v == 0);
  CHECK(q.producer_sees_space());
  CHECK(q.try_push(int{4}));
  for (int want = 1; want <= 4; ++want) {
    REQUIRE(q.try_pop(v));
    CHECK(v == want);
  }
  CHECK(q.empty());
  CHECK_FALSE(q.try_pop(v));
  CHECK(q.pushed() == 5);
  CHECK(q.popped() == 5);
}

TEST_CASE("spsc queue leaves a value it refused untouched") {
  SpscQueue<std::unique_ptr<int>> q(2);
  CHECK(q.try_push(std::make_unique<int>(1)));
  CHECK(q.try_push(std::make_unique<int>(2)));
  auto third = std::make_unique<int>(3);
  CHECK_FALSE(q.try_push(std::move(third)));
  REQUIRE(third != nullptr);
  CHECK(*third == 3);
}

TEST_CASE("spsc queue destroys the values still in it when it is destroyed") {
  auto tracker = std::make_shared<int>(0);
  {
    SpscQueue<std::shared_ptr<int>> q(8);
    for (int i = 0; i < 5; ++i) CHECK(q.try_push(std::shared_ptr<int>(tracker)));
    std::shared_ptr<int> one;
    CHECK(q.try_pop(one));
    CHECK(tracker.use_count() == 6);
  }
  CHECK(tracker.use_count() == 1);
}

TEST_CASE("spsc queue carries tasks whose captures are run once and freed") {
  SpscQueue<Task> q(4);
  auto owned = std::make_unique<int>(41);
  int result = 0;
  CHECK(q.try_push(Task([p = std::move(owned), &result] { result = *p + 1; })));
  Task t;
  REQUIRE(q.try_pop(t));
  t();
  CHECK(result == 42);
}

TEST_CASE("spsc queue passes millions of values between two threads in order") {
  const std::uint64_t seed = cascade::testing::test_seed("spsc queue");
  std::mt19937_64 rng(seed);
  const std::size_t capacity = std::size_t{1} << (1 + rng() % 10);  // 2 .. 1024
  constexpr std::uint64_t kCount = 2'000'000;
  SpscQueue<std::uint64_t> q(capacity);
  INFO("seed " << seed << " capacity " << capacity);

  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kCount;) {
      if (q.try_push(i * 2654435761u)) {
        ++i;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::uint64_t expected_index = 0;
  std::uint64_t sum = 0;
  bool in_order = true;
  while (expected_index < kCount) {
    std::uint64_t v;
    if (!q.try_pop(v)) {
      std::this_thread::yield();
      continue;
    }
    in_order = in_order && v == expected_index * 2654435761u;
    sum += v;
    ++expected_index;
  }
  producer.join();
  CHECK(in_order);
  CHECK(sum == 2654435761u * (kCount * (kCount - 1) / 2));
  CHECK(q.empty());
}
