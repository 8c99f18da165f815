// bench-runtime: what the runtime's basic operations cost. A program, not a test: it prints
// the median of several runs of each figure and asserts nothing.
//
//   fiber switch      two fibers on one Scheduler yielding to each other; ns per yield
//                     (one fiber -> scheduler -> other fiber hand-off)
//   round trip        one fiber on shard 0 submitting to shard 1 and awaiting, one call at a
//                     time: µs per call; with the default idle spin, without it (every
//                     call then wakes both shards from io_uring), and from an outside thread
//   throughput        N fibers on each of two shards submitting to the other (many in
//                     flight): calls per second; worker fibers against a fiber per message
//   idle fibers       RSS growth per fiber for 10,000 fibers parked on a future
//   idle CPU          CPU time used by a started, idle 2-shard runtime over 10 s
//
// Usage: bench-runtime [--quick]   (--quick: fewer repetitions and a 2 s idle window)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "src/runtime/future.h"
#include "src/runtime/runtime.h"
#include "src/runtime/scheduler.h"

using namespace cascade;
using namespace cascade::runtime;
using namespace std::chrono_literals;

namespace {

using BenchClock = std::chrono::steady_clock;

double seconds_since(BenchClock::time_point start) {
  return std::chrono::duration<double>(BenchClock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double median_of(int runs, const std::function<double()>& one) {
  std::vector<double> results;
  for (int i = 0; i < runs; ++i) results.push_back(one());
  return median(results);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

RuntimeOptions two_shards(Duration idle_spin = ShardOptions{}.idle_spin,
                          bool fiber_per_message = false) {
  RuntimeOptions o;
  o.shards = 2;
  o.pin = true;
  o.shard.idle_spin = idle_spin;
  o.shard.fiber_per_message = fiber_per_message;
  return o;
}

double fiber_switch_ns() {
  constexpr int kYields = 2'000'000;
  Scheduler s;
  for (int f = 0; f < 2; ++f) {
    s.spawn([&s] {
      for (int i = 0; i < kYields; ++i) s.yield();
    });
  }
  const auto start = BenchClock::now();
  s.run();
  return seconds_since(start) * 1e9 / (2.0 * kYields);
}

// One call in flight at a time, from a fiber of shard 0 to shard 1.
double round_trip_us(Duration idle_spin) {
  constexpr int kCalls = 50'000;
  Runtime rt(two_shards(idle_spin));
  if (!rt.start()) return -1;
  const double us = *rt.submit(0, [&rt] {
    for (int i = 0; i < 1000; ++i) (void)rt.submit(1, [i] { return i; }).get();  // warm up
    const auto start = BenchClock::now();
    for (int i = 0; i < kCalls; ++i) (void)rt.submit(1, [i] { return i; }).get();
    return seconds_since(start) * 1e6 / kCalls;
  }).get();
  rt.stop();
  return us;
}

double outside_round_trip_us() {
  constexpr int kCalls = 20'000;
  Runtime rt(two_shards());
  if (!rt.start()) return -1;
  const auto start = BenchClock::now();
  for (int i = 0; i < kCalls; ++i) (void)rt.submit(1, [i] { return i; }).get();
  const double us = seconds_since(start) * 1e6 / kCalls;
  rt.stop();
  return us;
}

// `fibers` fibers on each shard, each submitting to the other shard back to back.
double throughput_calls_per_s(std::size_t fibers, bool fiber_per_message) {
  const std::size_t calls_per_fiber = 400'000 / fibers;
  Runtime rt(two_shards(ShardOptions{}.idle_spin, fiber_per_message));
  if (!rt.start()) return -1;
  const auto start = BenchClock::now();
  (void)rt.run_on_each([&] {
    Scheduler& s = Shard::current()->scheduler();
    const ShardId other = 1 - this_shard_id();
    std::vector<FiberHandle> handles;
    for (std::size_t f = 0; f < fibers; ++f) {
      handles.push_back(s.spawn([&rt, other, calls_per_fiber] {
        for (std::size_t i = 0; i < calls_per_fiber; ++i) {
          (void)rt.submit(other, [i] { return i; }).get();
        }
      }));
    }
    for (auto& h : handles) h.join();
    return 0;
  });
  const double rate = 2.0 * static_cast<double>(fibers * calls_per_fiber) / seconds_since(start);
  rt.stop();
  return rate;
}

// RSS growth per fiber for `count` fibers that each park on a future, as an idle
// connection parks in recv.
double idle_fiber_bytes(std::size_t count) {
  RuntimeOptions o;
  o.shards = 1;
  o.shard.scheduler.stacks.max_cached_small = count;
  Runtime rt(o);
  if (!rt.start()) return -1;
  (void)rt.submit(0, [] { return 0; }).get();  // the shard is up and has run once
  const std::size_t before = rss_bytes();
  (void)rt.submit(0, [count] {
    Scheduler& s = Shard::current()->scheduler();
    std::size_t parked = 0;
    for (std::size_t i = 0; i < count; ++i) {
      s.spawn([&parked] {
        // A little stack in use, as a connection fiber in its read call would have.
        volatile char frame[512];
        frame[0] = 1;
        ++parked;
        Shard::current()->wait_for_stop();
        (void)frame[0];
      });
    }
    while (parked < count) s.yield();  // every fiber has run up to its wait
    return 0;
  }).get();
  const std::size_t after = rss_bytes();
  rt.stop();
  return static_cast<double>(after - before) / static_cast<double>(count);
}

double idle_cpu_ms(std::chrono::seconds window) {
  Runtime rt(two_shards());
  if (!rt.start()) return -1;
  (void)rt.run_on_each([] { return 0; });
  std::this_thread::sleep_for(50ms);
  const double before = cpu_seconds();
  std::this_thread::sleep_for(window);
  const double used = cpu_seconds() - before;
  rt.stop();
  return used * 1000;
}

}  // namespace

void report(const char* what, double value, const char* unit) {
  std::printf("  %-52s %12.2f %s\n", what, value, unit);
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int runs = quick ? 3 : 5;
  std::printf("bench-runtime: median of %d runs, %u cores\n", runs,
              std::thread::hardware_concurrency());
  const Duration spin = ShardOptions{}.idle_spin;

  report("fiber switch (yield hand-off)", median_of(runs, fiber_switch_ns), "ns");
  report("round trip fiber->shard, default idle spin",
         median_of(runs, [spin] { return round_trip_us(spin); }), "us");
  report("round trip fiber->shard, no spin (kernel wake-ups)",
         median_of(runs, [] { return round_trip_us(Duration::zero()); }), "us");
  report("round trip outside thread->shard", median_of(runs, outside_round_trip_us), "us");
  report("throughput, 1 fiber/shard, workers",
         median_of(runs, [] { return throughput_calls_per_s(1, false); }), "calls/s");
  report("throughput, 16 fibers/shard, workers",
         median_of(runs, [] { return throughput_calls_per_s(16, false); }), "calls/s");
  report("throughput, 256 fibers/shard, workers",
         median_of(runs, [] { return throughput_calls_per_s(256, false); }), "calls/s");
  report("throughput, 256 fibers/shard, fiber per message",
         median_of(runs, [] { return throughput_calls_per_s(256, true); }), "calls/s");
  report("RSS per idle parked fiber (10,000 fibers)",
         median_of(runs, [] { return idle_fiber_bytes(10'000); }), "bytes");
  const auto window = quick ? std::chrono::seconds(2) : std::chrono::seconds(10);
  std::printf("  (idle CPU window: %lld s)\n", static_cast<long long>(window.count()));
  report("CPU used by an idle 2-shard runtime", idle_cpu_ms(window), "ms");
  return 0;
}
