#include "src/runtime/rate_limiter.h"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "src/runtime/scheduler.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;

namespace {

double seconds_since(TimePoint start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// Timing bounds are generous (the machine is shared and noisy); the lower bounds are the
// ones that catch a limiter that does not limit.

TEST_CASE("the rate limiter holds a fiber to its byte rate") {
  Scheduler sched;
  constexpr std::uint64_t kRate = 1 << 20;   // 1 MiB/s
  constexpr std::uint64_t kBurst = 64 << 10;
  RateLimiter limiter(kRate, kBurst);
  double elapsed = 0;
  sched.spawn([&] {
    TimePoint start = Clock::now();
    for (int i = 0; i < 32; ++i) limiter.acquire(16 << 10);  // 512 KiB
    elapsed = seconds_since(start);
  });
  REQUIRE(sched.run());
  // The first burst is free: (512 - 64) KiB at 1 MiB/s = 0.4375 s.
  CHECK(elapsed > 0.40);
  CHECK(elapsed < 1.0);
}

TEST_CASE("a request larger than the burst is granted in pieces at the rate") {
  Scheduler sched;
  RateLimiter limiter(40960, 4096);  // 40 KiB/s, 4 KiB burst
  double elapsed = 0;
  sched.spawn([&] {
    TimePoint start = Clock::now();
    limiter.acquire(20480);  // 4 KiB now, then 16 KiB at 40 KiB/s = 0.4 s
    elapsed = seconds_since(start);
  });
  REQUIRE(sched.run());
  CHECK(elapsed > 0.37);
  CHECK(elapsed < 1.0);
}

TEST_CASE("set_rate takes effect for a fiber already waiting") {
  Scheduler sched;
  RateLimiter limiter(10 << 10, 4096);  // 10 KiB/s: 1 MiB would take 100 s
  double elapsed = 0;
  sched.spawn([&] {
    TimePoint start = Clock::now();
    limiter.acquire(1 << 20);
    elapsed = seconds_since(start);
  });
  sched.spawn([&] {
    this_fiber::sleep_for(100ms);
    CHECK(limiter.waiting() == 1);
    limiter.set_rate(64 << 20);  // 64 MiB/s, burst follows as the default
    limiter.set_burst(0);
  });
  REQUIRE(sched.run());
  CHECK(elapsed > 0.09);
  CHECK(elapsed < 1.5);
}

TEST_CASE("lowering the rate slows the next acquires down") {
  Scheduler sched;
  RateLimiter limiter(100 << 20, 4096);
  double fast = 0, slow = 0;
  sched.spawn([&] {
    TimePoint start = Clock::now();
    limiter.acquire(1 << 20);  // 1 MiB at 100 MiB/s: ~10 ms
    fast = seconds_since(start);
    limiter.set_rate(1 << 20);
    start = Clock::now();
    limiter.acquire(256 << 10);  // 256 KiB at 1 MiB/s: ~0.25 s
    slow = seconds_since(start);
  });
  REQUIRE(sched.run());
  CHECK(fast < 0.2);
  CHECK(slow > 0.2);
  CHECK(slow < 1.0);
}

TEST_CASE("a rate of 0 is unlimited and releases waiting fibers") {
  Scheduler sched;
  RateLimiter limiter(0);
  int passes = 0;
  sched.spawn([&] {
    for (int i = 0; i < 1000; ++i) limiter.acquire(1 << 30);
    ++passes;
  });
  REQUIRE(sched.run());
  CHECK(passes == 1);

  limiter.set_rate(1024);  // 1 KiB/s
  std::vector<int> done;
  for (int i = 0; i < 3; ++i) {
    sched.spawn([&, i] {
      limiter.acquire(1 << 20);
      done.push_back(i);
    });
  }
  sched.spawn([&] {
    this_fiber::sleep_for(50ms);
    CHECK(limiter.waiting() == 3);
    limiter.set_rate(0);
  });
  TimePoint start = Clock::now();
  REQUIRE(sched.run());
  CHECK(seconds_since(start) < 1.0);
  CHECK(done == std::vector<int>{0, 1, 2});  // first come, first served
}

TEST_CASE("charged() counts every byte asked for, paced or unlimited") {
  Scheduler sched;
  RateLimiter limiter(0);  // unlimited: returns at once, still counted
  sched.spawn([&] {
    limiter.acquire(1000);
    limiter.acquire(0);
    limiter.set_rate(1 << 30);
    limiter.acquire(2000);
  });
  REQUIRE(sched.run());
  CHECK(limiter.charged() == 3000);
}
