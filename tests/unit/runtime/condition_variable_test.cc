#include "src/runtime/condition_variable.h"

#include <doctest/doctest.h>

#include <vector>

#include "src/runtime/scheduler.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;

TEST_CASE("notify_one wakes the longest waiter and notify_all the rest in order") {
  Scheduler s;
  ConditionVariable cv;
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    s.spawn([&, i] {
      cv.wait();
      order.push_back(i);
    });
  }
  s.run_round();
  CHECK(cv.waiters() == 4);
  CHECK(cv.notify_one());
  s.run_round();
  CHECK(order == std::vector<int>{0});
  CHECK(cv.notify_all() == 3);
  CHECK_FALSE(cv.notify_one());
  CHECK(s.run());
  CHECK(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("a predicate wait sleeps through notifications until the predicate holds") {
  Scheduler s;
  ConditionVariable cv;
  int value = 0, wakeups_seen = -1;
  s.spawn([&] {
    cv.wait([&] { return value >= 3; });
    wakeups_seen = value;
  });
  for (int i = 0; i < 3; ++i) {
    s.run_round();
    ++value;
    cv.notify_all();
  }
  CHECK(s.run());
  CHECK(wakeups_seen == 3);
}

TEST_CASE("a timed wait that times out leaves the waiter list") {
  Scheduler s;
  ConditionVariable cv;
  bool notified = true;
  s.spawn([&] { notified = cv.wait_for(2ms); });
  CHECK(s.run());
  CHECK_FALSE(notified);
  CHECK(cv.waiters() == 0);
  CHECK_FALSE(cv.notify_one());
}

TEST_CASE("a timed predicate wait returns the predicate when the deadline passes") {
  Scheduler s;
  ConditionVariable cv;
  bool ready = false, result = true;
  s.spawn([&] { result = cv.wait_until(Clock::now() + 3ms, [&] { return ready; }); });
  CHECK(s.run());
  CHECK_FALSE(result);
}

TEST_CASE("a notified timed waiter is not woken again by its stale deadline") {
  Scheduler s;
  ConditionVariable cv, second;
  TimePoint deadline = Clock::now() + 50ms;  // far enough that the first wait really parks
  bool first_result = false, second_result = false, second_done = false;
  s.spawn([&] {
    first_result = cv.wait_until(deadline);
    // Waiting the same way puts the new record where the old one was: a timer left armed
    // for the old record would end this wait at the first deadline.
    second_result = second.wait_until(deadline + 10s);
    second_done = true;
  });
  s.run_round();
  cv.notify_one();
  s.spawn([&] {
    s.sleep_until(deadline + 5ms);
    CHECK_FALSE(second_done);
    second.notify_one();
  });
  CHECK(s.run());
  CHECK(first_result);
  CHECK(second_done);
  CHECK(second_result);
}
