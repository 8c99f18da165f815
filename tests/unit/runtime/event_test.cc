#include "src/runtime/event.h"

#include <doctest/doctest.h>

#include "src/runtime/scheduler.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;

TEST_CASE("waiting on a set event returns at once") {
  Scheduler s;
  Event ev(true);
  bool passed = false;
  s.spawn([&] {
    ev.wait();
    passed = true;
  });
  s.run_round();
  CHECK(passed);
  CHECK(s.live_fibers() == 0);
}

TEST_CASE("set wakes every waiter and the event stays set") {
  Scheduler s;
  Event ev;
  int woke = 0;
  for (int i = 0; i < 5; ++i) {
    s.spawn([&] {
      ev.wait();
      ++woke;
    });
  }
  s.run_round();
  CHECK(woke == 0);
  CHECK(ev.waiters() == 5);
  ev.set();
  CHECK(ev.waiters() == 0);
  CHECK(s.run());
  CHECK(woke == 5);
  CHECK(ev.is_set());
}

TEST_CASE("after reset a wait blocks until the next set") {
  Scheduler s;
  Event ev(true);
  ev.reset();
  CHECK_FALSE(ev.is_set());
  bool passed = false;
  s.spawn([&] {
    ev.wait();
    passed = true;
  });
  s.run_round();
  s.run_round();
  CHECK_FALSE(passed);
  ev.set();
  CHECK(s.run());
  CHECK(passed);
}

TEST_CASE("a pulse wakes the fibers waiting at that moment even though the event is reset") {
  Scheduler s;
  Event ev;
  int woke = 0;
  for (int i = 0; i < 3; ++i) {
    s.spawn([&] {
      ev.wait();
      ++woke;
    });
  }
  s.run_round();
  ev.set();
  ev.reset();
  CHECK(s.run());
  CHECK(woke == 3);
}

TEST_CASE("wait_until returns false when nobody sets the event before the deadline") {
  Scheduler s;
  Event ev;
  bool result = true;
  Duration waited{};
  s.spawn([&] {
    TimePoint start = Clock::now();
    result = ev.wait_until(start + 5ms);
    waited = Clock::now() - start;
  });
  CHECK(s.run());
  CHECK_FALSE(result);
  CHECK(waited >= 5ms);
  CHECK(ev.waiters() == 0);
}

TEST_CASE("wait_until returns true when the event is set before the deadline") {
  Scheduler s;
  Event ev;
  bool result = false;
  s.spawn([&] { result = ev.wait_for(10s); });
  s.spawn([&] {
    s.sleep_for(1ms);
    ev.set();
  });
  TimePoint start = Clock::now();
  CHECK(s.run());
  CHECK(result);
  CHECK(Clock::now() - start < 5s);  // it did not sit out the deadline
}

TEST_CASE("wait_until with a passed deadline reports the current state without parking") {
  Scheduler s;
  Event ev;
  bool unset_result = true, set_result = false;
  s.spawn([&] {
    unset_result = ev.wait_until(Clock::now() - 1ms);
    ev.set();
    set_result = ev.wait_until(Clock::now() - 1ms);
  });
  s.run_round();
  CHECK(s.live_fibers() == 0);
  CHECK_FALSE(unset_result);
  CHECK(set_result);
}

// Both tests below put a set() and a waiter's deadline in the same fire_due batch (same
// deadline; timers with equal deadlines fire in the order they were added). Afterwards the
// waiter waits again the same way on another event (so its wait record most likely lands
// where the first one was): a stale timer or a second wake would end that wait early.
TEST_CASE("a set that runs just before the deadline in the same round wins, once") {
  Scheduler s;
  Event ev, later;
  TimePoint deadline = Clock::now() + 10ms;
  s.add_timer(deadline, [&] { ev.set(); });  // added first: fires first
  int resumed = 0;
  bool result = false, second_result = false, second_wait_done = false;
  s.spawn([&] {
    result = ev.wait_until(deadline);
    ++resumed;
    second_result = later.wait_until(deadline + 10s);
    second_wait_done = true;
  });
  s.spawn([&] {
    s.sleep_until(deadline + 5ms);
    CHECK_FALSE(second_wait_done);  // nothing woke it out of the second wait
    later.set();
  });
  CHECK(s.run());
  CHECK(result);
  CHECK(resumed == 1);
  CHECK(second_wait_done);
  CHECK(second_result);
}

TEST_CASE("a deadline that runs just before a set in the same round wins, once") {
  Scheduler s;
  Event ev, later;
  TimePoint deadline = Clock::now() + 10ms;
  int resumed = 0;
  bool result = true, second_result = false, second_wait_done = false;
  s.spawn([&] {
    result = ev.wait_until(deadline);
    ++resumed;
    second_result = later.wait_until(deadline + 10s);
    second_wait_done = true;
  });
  s.run_round();                             // the waiter's timer is armed now
  s.add_timer(deadline, [&] { ev.set(); });  // added second: fires second
  s.spawn([&] {
    s.sleep_until(deadline + 5ms);
    CHECK_FALSE(second_wait_done);
    later.set();
  });
  CHECK(s.run());
  CHECK_FALSE(result);
  CHECK(ev.is_set());
  CHECK(resumed == 1);
  CHECK(second_wait_done);
  CHECK(second_result);
}
