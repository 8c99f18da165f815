#include "src/runtime/wait_group.h"

#include <doctest/doctest.h>

#include "src/runtime/scheduler.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;

TEST_CASE("wait returns at once when nothing was added") {
  Scheduler s;
  WaitGroup wg;
  bool passed = false;
  s.spawn([&] {
    wg.wait();
    passed = true;
  });
  s.run_round();
  CHECK(passed);
}

TEST_CASE("wait returns only after every task called done") {
  Scheduler s;
  WaitGroup wg;
  constexpr int kTasks = 10;
  int finished = 0, finished_when_woken = -1;
  wg.add(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    s.spawn([&, i] {
      for (int y = 0; y < i; ++y) s.yield();
      ++finished;
      wg.done();
    });
  }
  s.spawn([&] {
    wg.wait();
    finished_when_woken = finished;
  });
  CHECK(s.run());
  CHECK(finished_when_woken == kTasks);
  CHECK(wg.count() == 0);
}

TEST_CASE("reaching zero releases every waiter") {
  Scheduler s;
  WaitGroup wg;
  wg.add(2);
  int woke = 0;
  for (int i = 0; i < 4; ++i) {
    s.spawn([&] {
      wg.wait();
      ++woke;
    });
  }
  s.run_round();
  wg.done();
  s.run_round();
  CHECK(woke == 0);
  wg.done();
  CHECK(s.run());
  CHECK(woke == 4);
}

TEST_CASE("a waiter released at zero returns even if the group is raised again before it runs") {
  Scheduler s;
  WaitGroup wg;
  wg.add(1);
  bool passed = false;
  s.spawn([&] {
    wg.wait();
    passed = true;
  });
  s.run_round();
  wg.done();
  wg.add(1);  // a new batch starts before the waiter runs
  s.run_round();
  CHECK(passed);
  wg.done();
}

TEST_CASE("wait_until times out while tasks are outstanding and succeeds once they finish") {
  Scheduler s;
  WaitGroup wg;
  wg.add(1);
  bool first = true, second = false;
  s.spawn([&] {
    first = wg.wait_for(3ms);
    second = wg.wait_for(10s);
  });
  s.spawn([&] {
    s.sleep_for(10ms);
    wg.done();
  });
  TimePoint start = Clock::now();
  CHECK(s.run());
  CHECK_FALSE(first);
  CHECK(second);
  CHECK(Clock::now() - start < 5s);
}
