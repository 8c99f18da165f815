#include "src/runtime/timer_queue.h"

#include <doctest/doctest.h>

#include <vector>

using namespace cascade::runtime;
using namespace std::chrono_literals;

TEST_CASE("timers fire in deadline order, ties in arming order") {
  TimerQueue q;
  std::vector<int> order;
  TimePoint t0 = Clock::now();
  q.add(t0 + 3ms, [&] { order.push_back(3); });
  q.add(t0 + 1ms, [&] { order.push_back(1); });
  q.add(t0 + 2ms, [&] { order.push_back(20); });
  q.add(t0 + 2ms, [&] { order.push_back(21); });
  CHECK(q.fire_due(t0) == 0);
  CHECK(q.next_deadline() == t0 + 1ms);
  CHECK(q.fire_due(t0 + 2ms) == 3);
  CHECK(order == std::vector<int>{1, 20, 21});
  CHECK(q.fire_due(t0 + 10ms) == 1);
  CHECK(order.back() == 3);
  CHECK(q.armed() == 0);
  CHECK(!q.next_deadline());
}

TEST_CASE("a cancelled timer never fires and a stale id cancels nothing") {
  TimerQueue q;
  TimePoint t0 = Clock::now();
  int fired = 0;
  TimerId a = q.add(t0 + 1ms, [&] { fired += 1; });
  TimerId b = q.add(t0 + 2ms, [&] { fired += 10; });
  CHECK(q.cancel(a));
  CHECK_FALSE(q.cancel(a));
  // a's slot is reused by c; the stale id must not cancel c.
  TimerId c = q.add(t0 + 3ms, [&] { fired += 100; });
  CHECK(c.slot == a.slot);
  CHECK_FALSE(q.cancel(a));
  CHECK(q.next_deadline() == t0 + 2ms);
  q.fire_due(t0 + 5ms);
  CHECK(fired == 110);
  CHECK_FALSE(q.cancel(b));  // already fired
}

TEST_CASE("a timer callback may arm another timer that is due in the same pass") {
  TimerQueue q;
  TimePoint t0 = Clock::now();
  int fired = 0;
  q.add(t0, [&] {
    ++fired;
    q.add(t0, [&] { ++fired; });
  });
  CHECK(q.fire_due(t0) == 2);
  CHECK(fired == 2);
}

TEST_CASE("timers cancelled long before their deadline do not pile up in the heap") {
  TimerQueue q;
  TimePoint far = Clock::now() + std::chrono::hours(1);
  TimerId keep = q.add(far, [] {});
  for (int i = 0; i < 100000; ++i) {
    TimerId id = q.add(far + std::chrono::seconds(i), [] {});
    CHECK(q.cancel(id));
  }
  CHECK(q.armed() == 1);
  CHECK(q.heap_size() <= 2 * q.armed() + 65);
  CHECK(q.next_deadline() == far);
  CHECK(q.cancel(keep));
}
