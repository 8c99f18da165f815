#include "src/runtime/semaphore.h"

#include <doctest/doctest.h>

#include "tests/support/test_seed.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "src/runtime/scheduler.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;

namespace {
}  // namespace

TEST_CASE("acquire takes free permits without waiting") {
  Scheduler s;
  Semaphore sem(3);
  s.spawn([&] {
    sem.acquire(2);
    sem.acquire();
  });
  s.run_round();
  CHECK(s.live_fibers() == 0);
  CHECK(sem.available() == 0);
}

TEST_CASE("acquire waits until releases provide enough permits") {
  Scheduler s;
  Semaphore sem(1);
  bool got = false;
  s.spawn([&] {
    sem.acquire(3);
    got = true;
  });
  s.run_round();
  sem.release();
  s.run_round();
  CHECK_FALSE(got);
  CHECK(sem.available() == 2);
  sem.release();
  CHECK(sem.available() == 0);  // handed over before the fiber even runs
  CHECK(s.run());
  CHECK(got);
}

TEST_CASE("waiters are granted in FIFO order") {
  Scheduler s;
  Semaphore sem(0);
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    s.spawn([&, i] {
      sem.acquire();
      order.push_back(i);
    });
  }
  s.run_round();
  for (int i = 0; i < 5; ++i) {
    sem.release();
    s.run_round();
  }
  CHECK(s.run());
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("a large request at the head is not starved by smaller ones behind it") {
  Scheduler s;
  Semaphore sem(0);
  std::vector<char> order;
  s.spawn([&] {
    sem.acquire(5);
    order.push_back('B');
  });
  s.spawn([&] {
    sem.acquire(1);
    order.push_back('s');
  });
  s.run_round();
  for (int i = 0; i < 4; ++i) sem.release();
  s.run_round();
  CHECK(order.empty());  // the small request fits but waits its turn
  CHECK(sem.available() == 4);
  sem.release(2);
  CHECK(s.run());
  CHECK(order == std::vector<char>{'B', 's'});
  CHECK(sem.available() == 0);
}

TEST_CASE("try_acquire does not take permits ahead of a waiting fiber") {
  Scheduler s;
  Semaphore sem(2);
  s.spawn([&] { sem.acquire(3); });
  s.run_round();
  CHECK(sem.available() == 2);
  CHECK_FALSE(sem.try_acquire(1));
  sem.release();
  CHECK(s.run());
  CHECK(sem.try_acquire(0));
  CHECK_FALSE(sem.try_acquire(1));
}

TEST_CASE("one release can grant several waiters at once") {
  Scheduler s;
  Semaphore sem(0);
  int got = 0;
  for (int i = 0; i < 3; ++i) {
    s.spawn([&] {
      sem.acquire(2);
      ++got;
    });
  }
  s.run_round();
  sem.release(7);
  CHECK(sem.waiters() == 0);
  CHECK(sem.available() == 1);
  CHECK(s.run());
  CHECK(got == 3);
}

TEST_CASE("acquire_until times out holding no permits") {
  Scheduler s;
  Semaphore sem(1);
  bool result = true;
  Duration waited{};
  s.spawn([&] {
    TimePoint start = Clock::now();
    result = sem.acquire_until(start + 5ms, 2);
    waited = Clock::now() - start;
  });
  CHECK(s.run());
  CHECK_FALSE(result);
  CHECK(waited >= 5ms);
  CHECK(sem.available() == 1);
  CHECK(sem.waiters() == 0);
}

TEST_CASE("a timed-out head lets the requests behind it proceed") {
  Scheduler s;
  Semaphore sem(2);
  bool big = true, small = false;
  s.spawn([&] { big = sem.acquire_for(5ms, 5); });
  s.spawn([&] {
    sem.acquire(2);  // fits, but queued behind the big request
    small = true;
  });
  CHECK(s.run());
  CHECK_FALSE(big);
  CHECK(small);
  CHECK(sem.available() == 0);
}

// A release and the waiter's deadline in the same fire_due batch (timers with equal
// deadlines fire in the order they were added).
TEST_CASE("a release just before the deadline in the same round grants the permits once") {
  Scheduler s;
  Semaphore sem(0);
  TimePoint deadline = Clock::now() + 10ms;
  s.add_timer(deadline, [&] { sem.release(2); });  // fires before the waiter's timer
  bool result = false;
  s.spawn([&] { result = sem.acquire_until(deadline, 2); });
  CHECK(s.run());
  CHECK(result);
  CHECK(sem.available() == 0);
}

TEST_CASE("a deadline just before a release in the same round leaves the permits free") {
  Scheduler s;
  Semaphore sem(0);
  TimePoint deadline = Clock::now() + 10ms;
  bool result = true;
  s.spawn([&] { result = sem.acquire_until(deadline, 2); });
  s.run_round();
  s.add_timer(deadline, [&] { sem.release(2); });  // fires after the waiter's timer
  CHECK(s.run());
  CHECK_FALSE(result);
  CHECK(sem.available() == 2);  // the timed-out waiter consumed nothing
}

// Fibers acquire and release random amounts with and without deadlines while timer
// callbacks lend and take back permits. All deadlines sit on a coarse grid so timeouts and
// releases keep landing in the same scheduler round. Checked: never more permits out than
// exist, every permit back at the end, a timeout never reported before its deadline.
// CASCADE_SEED replays every random choice; when a deadline fires still depends on the clock.
TEST_CASE("randomized acquire, release and timeouts never lose or duplicate permits") {
  std::mt19937_64 rng(cascade::testing::test_seed("semaphore stress"));
  Scheduler s;
  constexpr std::size_t kPermits = 8;
  constexpr int kFibers = 200, kOpsPerFiber = 40;
  Semaphore sem(kPermits);
  std::size_t held = 0, lent_out = 0;
  long granted = 0, timed_out = 0, refused = 0;
  TimePoint base = Clock::now();
  auto grid = [&](int ticks) { return base + ticks * 50us; };
  auto next_tick = [&](int ahead) {
    auto ticks = (Clock::now() - base) / 50us;
    return grid(static_cast<int>(ticks) + ahead);
  };
  auto check_conservation = [&] { CHECK(held + lent_out + sem.available() <= kPermits); };

  // The lender: timer callbacks that borrow free permits and return them on the grid.
  for (int t = 1; t <= 400; t += 3) {
    s.add_timer(grid(t), [&] {
      if (sem.try_acquire(2)) {
        lent_out += 2;
        s.add_timer(next_tick(2), [&] {
          lent_out -= 2;
          sem.release(2);
        });
      }
    });
  }
  for (int f = 0; f < kFibers; ++f) {
    std::uint64_t fiber_seed = rng();
    s.spawn([&, fiber_seed] {
      std::mt19937_64 r(fiber_seed);
      for (int op = 0; op < kOpsPerFiber; ++op) {
        std::size_t n = 1 + r() % 3;
        if (r() % 20 == 0) n = kPermits;  // now and then a request as big as everything
        bool got = false;
        switch (r() % 3) {
          case 0: sem.acquire(n); got = true; break;
          case 1: got = sem.try_acquire(n); refused += !got; break;
          default: {
            TimePoint deadline = next_tick(static_cast<int>(r() % 4));
            got = sem.acquire_until(deadline, n);
            if (!got) {
              ++timed_out;
              CHECK(Clock::now() >= deadline);
            }
          }
        }
        if (!got) continue;
        ++granted;
        held += n;
        check_conservation();
        if (r() % 2) s.sleep_until(next_tick(1)); else s.yield();
        held -= n;
        sem.release(n);
        check_conservation();
      }
    });
  }
  CHECK(s.run());
  MESSAGE("granted " << granted << ", timed out " << timed_out << ", refused " << refused);
  CHECK(granted > 0);
  CHECK(timed_out > 0);
  CHECK(held == 0);
  CHECK(lent_out == 0);
  CHECK(sem.available() == kPermits);
  CHECK(sem.waiters() == 0);
}
