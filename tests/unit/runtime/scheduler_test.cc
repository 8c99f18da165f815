#include "src/runtime/scheduler.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

using namespace cascade::runtime;
using namespace std::chrono_literals;

TEST_CASE("spawned fibers run in FIFO order and interleave at yields") {
  Scheduler s;
  std::string trace;
  for (char c : std::string("abc")) {
    s.spawn([&, c] {
      trace += c;
      s.yield();
      trace += static_cast<char>(c - 32);
    });
  }
  CHECK(s.run());
  CHECK(trace == "abcABC");
  CHECK(s.live_fibers() == 0);
}

TEST_CASE("a suspended fiber runs again only after wake") {
  Scheduler s;
  Fiber* parked = nullptr;
  int steps = 0;
  s.spawn([&] {
    parked = s.current_fiber();
    s.suspend();
    ++steps;
  });
  s.run_round();
  CHECK(steps == 0);
  CHECK_FALSE(s.has_ready());
  CHECK(s.wake(parked));
  CHECK_FALSE(s.wake(parked));  // already ready: a second wake is a no-op
  s.run_round();
  CHECK(steps == 1);
  CHECK(s.live_fibers() == 0);
}

TEST_CASE("run reports a deadlock when live fibers can never be woken") {
  Scheduler s;
  Fiber* parked = nullptr;
  s.spawn([&] {
    parked = s.current_fiber();
    s.suspend();
  });
  CHECK_FALSE(s.run());
  s.wake(parked);
  CHECK(s.run());
}

TEST_CASE("join waits for the fiber to finish and returns at once after") {
  Scheduler s;
  std::vector<int> order;
  s.spawn([&] {
    FiberHandle child = s.spawn([&] {
      s.sleep_for(2ms);
      order.push_back(1);
    });
    child.join();
    order.push_back(2);
    CHECK(child.done());
    child.join();
    order.push_back(3);
  });
  CHECK(s.run());
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("sleep_for wakes no earlier than asked and not much later") {
  Scheduler s;
  std::vector<Duration> errors;
  for (auto d : {1ms, 5ms, 20ms}) {
    s.spawn([&, d] {
      TimePoint start = Clock::now();
      s.sleep_for(d);
      errors.push_back(Clock::now() - start - d);
    });
  }
  CHECK(s.run());
  REQUIRE(errors.size() == 3);
  for (Duration e : errors) {
    CHECK(e >= 0ns);
    CHECK(e < 20ms);  // generous: the machine is shared and noisy
  }
}

TEST_CASE("sleepers wake in deadline order") {
  Scheduler s;
  std::vector<int> order;
  for (int i : {3, 1, 2}) {
    s.spawn([&, i] {
      s.sleep_for(i * 2ms);
      order.push_back(i);
    });
  }
  CHECK(s.run());
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("100k fibers each run to completion and return their stacks") {
  Scheduler s;
  long sum = 0;
  for (int i = 0; i < 100000; ++i) {
    s.spawn([&, i] {
      s.yield();
      sum += i;
    });
  }
  CHECK(s.run());
  CHECK(sum == 100000L * 99999 / 2);
  CHECK(s.stats().spawned == 100000);
  // every stack came back to the pool, none leaked
  CHECK(s.stacks().cached_stacks() == s.stacks().mapped_stacks());
}

namespace {
void spin_for(Duration d) {
  TimePoint end = Clock::now() + d;
  while (Clock::now() < end) {
  }
}
}  // namespace

TEST_CASE("a background fiber is held to its share while foreground work waits") {
  SchedulerOptions options;
  options.background_share = 0.2;
  Scheduler s(options);
  Duration fg_time{0}, bg_time{0};
  bool stop = false;
  s.spawn([&] {
    TimePoint end = Clock::now() + 300ms;
    while (Clock::now() < end) {
      TimePoint t = Clock::now();
      spin_for(50us);
      fg_time += Clock::now() - t;
      s.yield();
    }
    stop = true;
  });
  s.spawn(
      [&] {
        while (!stop) {
          TimePoint t = Clock::now();
          spin_for(20us);  // one "block" of compaction work, then a yield point
          bg_time += Clock::now() - t;
          s.yield();
        }
      },
      SpawnOptions{.priority = Priority::kBackground, .name = "compactor"});
  CHECK(s.run());
  double share = std::chrono::duration<double>(bg_time) /
                 std::chrono::duration<double>(fg_time + bg_time);
  MESSAGE("background share " << share << " (budget 0.2)");
  CHECK(share > 0.05);  // it is not starved
  CHECK(share < 0.35);  // and held near its budget
  CHECK(s.stats().background_deferred > 0);
}

TEST_CASE("a background fiber runs freely when no foreground fiber is ready") {
  SchedulerOptions options;
  options.background_share = 0.05;
  Scheduler s(options);
  int blocks = 0;
  s.spawn(
      [&] {
        for (; blocks < 1000; ++blocks) s.yield();
      },
      SpawnOptions{.priority = Priority::kBackground});
  CHECK(s.run());
  CHECK(blocks == 1000);
  CHECK(s.stats().background_deferred == 0);
}

TEST_CASE("a foreground fiber that never suspends yields through maybe_yield") {
  // A writer loop that never waits: without maybe_yield the background fiber and a second
  // foreground fiber would run only once it finished.
  SchedulerOptions options;
  options.background_share = 0.2;
  options.foreground_quantum = std::chrono::microseconds(300);
  Scheduler s(options);
  bool done = false;
  int background_blocks = 0, other_runs = 0;
  s.spawn([&] {
    // Until the others made progress (a time limit only against a hang): without
    // maybe_yield neither would, and the loop would end at the limit.
    TimePoint give_up = Clock::now() + std::chrono::seconds(20);
    while ((background_blocks < 20 || other_runs < 10) && Clock::now() < give_up) {
      spin_for(20us);
      s.maybe_yield();
    }
    done = true;
  });
  s.spawn([&] {
    while (!done) {
      ++other_runs;
      s.yield();
    }
  });
  s.spawn(
      [&] {
        while (!done) {
          spin_for(20us);
          ++background_blocks;
          s.yield();
        }
      },
      SpawnOptions{.priority = Priority::kBackground, .name = "compactor"});
  CHECK(s.run());
  MESSAGE(s.stats().long_run_yields << " yields, " << background_blocks
                                    << " background blocks, " << other_runs << " other runs");
  CHECK(background_blocks >= 20);
  CHECK(other_runs >= 10);
  // The other foreground fiber runs only after one of the spinner's yields.
  CHECK(s.stats().long_run_yields >= static_cast<std::uint64_t>(other_runs) - 1);
}

TEST_CASE("maybe_yield yields at most once per round") {
  SchedulerOptions options;
  options.foreground_quantum = Duration::zero();  // every call is past the quantum
  Scheduler s(options);
  std::vector<std::string> trace;
  for (std::string name : {"a", "b"}) {
    s.spawn([&, name] {
      for (int i = 0; i < 3; ++i) {
        trace.push_back(name + std::to_string(i));
        s.maybe_yield();
      }
    });
  }
  CHECK(s.run());
  // Round 1: a yields after a0; b finds the round's yield taken and runs to its end.
  // Rounds 2 and 3: a alone, yielding after a1 and a2 (one yield in each round).
  CHECK(trace == std::vector<std::string>{"a0", "b0", "b1", "b2", "a1", "a2"});
  CHECK(s.stats().long_run_yields == 3);
}

TEST_CASE("maybe_yield does nothing in a background fiber or a short round") {
  SchedulerOptions options;
  options.foreground_quantum = std::chrono::hours(1);  // never past the quantum
  options.background_share = 0;  // the ready background fiber is never owed a slice
  Scheduler s(options);
  s.spawn([&] {
    s.maybe_yield();  // the round is short and the background fiber is owed nothing
  });
  s.spawn([&] { s.maybe_yield(); }, SpawnOptions{.priority = Priority::kBackground});
  CHECK(s.run());
  CHECK(s.stats().long_run_yields == 0);
}

TEST_CASE("changing the background share takes effect at once") {
  Scheduler s;
  s.set_background_share(0.5);
  CHECK(s.background_share() == doctest::Approx(0.5));
  s.set_background_share(7);
  CHECK(s.background_share() == doctest::Approx(1.0));
}

TEST_CASE("a wait queue removes from the middle and keeps FIFO order") {
  Scheduler s;
  WaitQueue q;
  std::vector<Fiber*> fibers;
  std::vector<int> woke;
  for (int i = 0; i < 4; ++i) {
    s.spawn([&, i] {
      fibers.push_back(s.current_fiber());
      q.push_back(s.current_fiber());
      s.suspend();
      woke.push_back(i);
    });
  }
  s.run_round();
  REQUIRE(q.size() == 4);
  CHECK(q.remove(fibers[1]));
  CHECK_FALSE(q.remove(fibers[1]));
  CHECK_FALSE(q.contains(fibers[1]));
  while (Fiber* f = q.pop_front()) s.wake(f);
  s.wake(fibers[1]);
  CHECK(s.run());
  CHECK(woke == std::vector<int>{0, 2, 3, 1});
}

namespace {
// Recursion that needs far more than a small stack's 64 KiB: ~1 KiB per frame.
int deep(int n) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(n);
  return n == 0 ? pad[0] : deep(n - 1) + 1;
}
}  // namespace

TEST_CASE("run_deep runs a call that needs a deep stack on a large stack and returns its value") {
  Scheduler s;
  int got = 0;
  bool also_void = false;
  s.spawn([&] {
    got = s.run_deep([] { return deep(400); });  // ~400 KiB of frames
    s.run_deep([&] { also_void = true; });
  });
  CHECK(s.run());
  CHECK(got == 400);
  CHECK(also_void);
}

TEST_CASE("yield_to_round_end runs the fiber again in the same round, after the others") {
  Scheduler s;
  std::string trace;
  s.spawn([&] {
    trace += 'a';
    s.yield_to_round_end();
    trace += 'A';
  });
  for (char c : std::string("bc")) {
    s.spawn([&, c] { trace += c; });
  }
  s.run_round();
  CHECK(trace == "abcA");
  CHECK(s.live_fibers() == 0);
  // A plain yield() waits for the next round.
  s.spawn([&] {
    trace += 'y';
    s.yield();
    trace += 'Y';
  });
  s.run_round();
  CHECK(trace == "abcAy");
  s.run_round();
  CHECK(trace == "abcAyY");
}

namespace {
// Spawns one fiber per slot of `parked` that parks itself there and, once woken, appends
// `first` + its index to `trace` and runs then(index). Run a round to park them.
template <std::size_t N>
void spawn_parked(Scheduler& s, Fiber* (&parked)[N], std::string& trace, char first,
                  std::function<void(int)> then = {}) {
  for (int i = 0; i < static_cast<int>(N); ++i) {
    s.spawn([&s, &parked, &trace, first, then, i] {
      parked[i] = s.current_fiber();
      s.suspend();
      trace += static_cast<char>(first + i);
      if (then) then(i);
    });
  }
}
}  // namespace

TEST_CASE("a wake under WakeInRound runs the woken fiber in the same round") {
  Scheduler s;
  std::string trace;
  Fiber* parked[2] = {nullptr, nullptr};
  spawn_parked(s, parked, trace, 'p');
  s.run_round();
  CHECK(trace.empty());
  s.spawn([&] {
    trace += 'w';
    {
      Scheduler::WakeInRound in_round;
      s.wake(parked[0]);
    }
    s.wake(parked[1]);  // outside the scope: the next round
    trace += 'W';
  });
  s.run_round();
  CHECK(trace == "wWp");
  s.run_round();
  CHECK(trace == "wWpq");
  // From the scheduler's own context (no batch running) it is a plain wake.
  s.spawn([&] {
    parked[0] = s.current_fiber();
    s.suspend();
    trace += 'r';
  });
  s.run_round();
  {
    Scheduler::WakeInRound in_round;
    s.wake(parked[0]);
  }
  CHECK(trace == "wWpq");
  s.run_round();
  CHECK(trace == "wWpqr");
}

TEST_CASE("fibers parked for the round's end past a batch's worth wait their turn in the next round") {
  SchedulerOptions options;
  options.max_batch = 2;
  Scheduler s(options);
  std::string trace;
  // One fiber parks itself at the round's end again and again: each round runs it at most
  // max_batch more times, and what is left of it then queues behind the fibers already
  // waiting (c, which the first round's batch had no room for).
  s.spawn([&] {
    for (int i = 0; i < 5; ++i) {
      trace += static_cast<char>('0' + i);
      s.yield_to_round_end();
    }
  });
  s.spawn([&] { trace += 'b'; });
  s.spawn([&] { trace += 'c'; });
  s.run_round();
  CHECK(trace == "0b12");
  s.run_round();
  CHECK(trace == "0b12c34");
  CHECK(s.live_fibers() == 0);
}

TEST_CASE("the before-background hook runs between the foreground batch and background fibers") {
  Scheduler s;
  std::string trace;
  s.set_before_background([&] { trace += '|'; });
  s.spawn([&] { trace += 'f'; });
  s.run_round();
  CHECK(trace == "f");  // no background fiber ready: no call
  s.spawn([&] { trace += 'f'; });
  s.spawn([&] { trace += 'b'; }, SpawnOptions{.priority = Priority::kBackground});
  s.run_round();
  CHECK(trace == "ff|b");
}

TEST_CASE("a fiber woken into the round runs before one parked for the round's end") {
  // The chain a hot key's lock makes: a holder parks for the round's end after waking the
  // next holder into the round, who wakes the one after: every one of them runs before it.
  Scheduler s;
  std::string trace;
  Fiber* parked[2] = {nullptr, nullptr};
  spawn_parked(s, parked, trace, '1', [&](int i) {
    if (i != 0) return;
    Scheduler::WakeInRound in_round;
    s.wake(parked[1]);
  });
  s.run_round();
  s.spawn([&] {
    {
      Scheduler::WakeInRound in_round;
      s.wake(parked[0]);
    }
    s.yield_to_round_end();
    trace += 'L';
  });
  s.run_round();
  CHECK(trace == "12L");
  CHECK(s.live_fibers() == 0);
}
