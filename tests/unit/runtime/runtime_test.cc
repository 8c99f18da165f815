#include "src/runtime/runtime.h"

#include <doctest/doctest.h>

#include "tests/support/test_seed.h"
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "src/runtime/scheduler.h"
#include "src/runtime/socket.h"

using namespace cascade;
using namespace cascade::runtime;
using namespace std::chrono_literals;

namespace {


RuntimeOptions shards(std::size_t n) {
  RuntimeOptions o;
  o.shards = n;
  return o;
}

// Runs `body(i)` in `n` fibers of the calling shard and waits for all of them.
template <typename Body>
void in_fibers(std::size_t n, Body body) {
  Scheduler& s = Shard::current()->scheduler();
  std::vector<FiberHandle> fibers;
  for (std::size_t i = 0; i < n; ++i) fibers.push_back(s.spawn([&body, i] { body(i); }));
  for (auto& f : fibers) f.join();
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

TEST_CASE("a million cross-shard submits between two shards all return the right result") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  constexpr std::size_t kFibersPerShard = 128;
  constexpr std::uint64_t kCallsPerFiber = 500'000 / kFibersPerShard;
  auto per_shard = rt.run_on_each([&rt]() -> Result<std::uint64_t> {
    const ShardId me = this_shard_id();
    const ShardId other = 1 - me;
    std::uint64_t good = 0;
    in_fibers(kFibersPerShard, [&](std::size_t f) {
      for (std::uint64_t i = 0; i < kCallsPerFiber; ++i) {
        const std::uint64_t x = (f << 32) | i;
        Result<std::uint64_t> r =
            rt.submit(other, [x] { return x * 7 + this_shard_id(); }).get();
        if (r && *r == x * 7 + other && this_shard_id() == me) ++good;
      }
    });
    return good;
  });
  rt.stop();
  REQUIRE(per_shard.size() == 2);
  for (auto& r : per_shard) {
    REQUIRE(r.has_value());
    CHECK(*r == kFibersPerShard * kCallsPerFiber);
  }
}

TEST_CASE("post delivers every message exactly once, from fibers and from outside") {
  constexpr std::size_t kShards = 3;
  constexpr std::uint32_t kPerSender = 20'000;
  Runtime rt(shards(kShards));
  REQUIRE(rt.start());
  // hits[target][sender][i]: touched only on the target shard's thread.
  std::vector<std::vector<std::vector<std::uint8_t>>> hits(
      kShards, std::vector<std::vector<std::uint8_t>>(kShards + 1, std::vector<std::uint8_t>(kPerSender)));
  auto post_all = [&](std::size_t sender) {
    for (std::uint32_t i = 0; i < kPerSender; ++i) {
      for (ShardId t = 0; t < kShards; ++t) {
        CHECK(rt.post(t, [&hits, t, sender, i] { ++hits[t][sender][i]; }));
      }
    }
  };
  std::thread outside([&] { post_all(kShards); });
  rt.run_on_each([&] { post_all(this_shard_id()); });
  outside.join();
  rt.stop();  // drains every lane before the threads end
  std::size_t wrong = 0;
  for (auto& by_target : hits) {
    for (auto& by_sender : by_target) {
      for (std::uint8_t h : by_sender) wrong += h != 1;
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("run_on returns every listed shard's result in the order asked") {
  Runtime rt(shards(4));
  REQUIRE(rt.start());
  const std::array<ShardId, 4> order{3, 1, 2, 1};
  auto ids = rt.run_on(order, [] { return this_shard_id(); });
  REQUIRE(ids.size() == order.size());
  for (std::size_t i = 0; i < order.size(); ++i) CHECK(*ids[i] == order[i]);

  // From a fiber, with the caller's own shard among the targets (it runs inline).
  auto nested = rt.submit(2, [&rt, order] {
    std::vector<ShardId> got;
    for (auto& r : rt.run_on(order, [] { return this_shard_id() * 10; })) got.push_back(*r);
    return got;
  }).get();
  REQUIRE(nested.has_value());
  CHECK(*nested == std::vector<ShardId>{30, 10, 20, 10});

  auto all = rt.run_on_each([] { return Status::not_found("shard " + std::to_string(this_shard_id())); });
  REQUIRE(all.size() == 4);
  for (ShardId i = 0; i < 4; ++i) CHECK(all[i].message() == "shard " + std::to_string(i));
  rt.stop();
}

TEST_CASE("an outside thread's submit blocks until the shard answers") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  const auto start = std::chrono::steady_clock::now();
  Result<int> r = rt.submit(1, [] {
                      this_fiber::sleep_for(30ms);
                      return 41 + static_cast<int>(this_shard_id());
                    }).get();
  CHECK(std::chrono::steady_clock::now() - start >= 30ms);
  REQUIRE(r.has_value());
  CHECK(*r == 42);
  rt.stop();
}

TEST_CASE("outside calls are refused before start and after stop, with a shutdown error") {
  Runtime rt(shards(1));
  bool ran = false;
  CHECK(rt.post(0, [&] { ran = true; }).code() == StatusCode::kShutdown);
  REQUIRE(rt.start());
  CHECK(*rt.submit(0, [] { return 1; }).get() == 1);
  rt.stop();
  CHECK(rt.submit(0, [&] { ran = true; return 2; }).get().error().code() == StatusCode::kShutdown);
  CHECK_FALSE(ran);
}

TEST_CASE("a call to the caller's own shard runs inline, without a queue") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  auto r = rt.submit(0, [&rt] {
    const std::uint64_t before = rt.shard(0).messages_run();
    Future<int> f = rt.submit(0, [] { return 5; });
    const bool ready_at_once = f.ready();
    return ready_at_once && *f.get() == 5 && rt.shard(0).messages_run() == before;
  }).get();
  CHECK(*r);
  rt.stop();
}

TEST_CASE("full lanes in both directions make senders wait and lose nothing") {
  const std::uint64_t seed = cascade::testing::test_seed("runtime");
  RuntimeOptions o = shards(2);
  o.shard.peer_lane_capacity = 2;
  o.shard.external_lane_capacity = 2;
  Runtime rt(o);
  REQUIRE(rt.start());
  std::mt19937_64 rng(seed);
  const std::size_t fibers = 8 + rng() % 24;
  constexpr std::uint64_t kPerFiber = 1'000;
  INFO("seed " << seed << " fibers " << fibers);
  std::array<std::atomic<std::uint64_t>, 2> posted_sum{};
  std::atomic<std::uint64_t> outside_sum{0};
  constexpr std::uint64_t kOutside = 2'000;
  // Every shard floods the other with posts and with submits whose handlers themselves call
  // back into the sender and wait: both lanes fill while each side waits on the other.
  auto flood = [&] {
    const ShardId other = 1 - this_shard_id();
    std::uint64_t ok = 0;
    in_fibers(fibers, [&](std::size_t f) {
      for (std::uint64_t i = 0; i < kPerFiber; ++i) {
        const std::uint64_t v = f * kPerFiber + i;
        (void)rt.post(other, [&posted_sum, v] { posted_sum[this_shard_id()] += v; });
        if (i % 8 == 0) {
          auto r = rt.submit(other, [&rt, v] {
                       const ShardId back = 1 - this_shard_id();
                       return *rt.submit(back, [v] { return v + 1; }).get();
                     }).get();
          ok += r && *r == v + 1;
        }
      }
    });
    return ok;
  };
  std::thread outside([&] {
    for (std::uint64_t i = 1; i <= kOutside; ++i) {
      CHECK(rt.post(i % 2, [&outside_sum, i] { outside_sum += i; }));
    }
  });
  auto oks = rt.run_on_each(flood);
  outside.join();
  rt.stop();
  const std::uint64_t n = fibers * kPerFiber;
  for (auto& ok : oks) CHECK(*ok == fibers * ((kPerFiber + 7) / 8));
  CHECK(posted_sum[0].load() == n * (n - 1) / 2);
  CHECK(posted_sum[1].load() == n * (n - 1) / 2);
  CHECK(outside_sum.load() == kOutside * (kOutside + 1) / 2);
  // The test means nothing unless lanes really were full.
  CHECK(rt.shard(0).parked_sends() + rt.shard(1).parked_sends() > 0);
  CHECK(rt.shard(0).external_parked_sends() + rt.shard(1).external_parked_sends() > 0);
}

TEST_CASE("futures fulfilled on another shard wake the fiber that waits, on its own shard") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  constexpr int kWaiters = 200;
  auto r = rt.submit(0, [&rt] {
    std::vector<Promise<int>> promises(kWaiters);
    std::vector<Future<int>> futures;
    for (auto& p : promises) futures.push_back(p.get_future());
    int right = 0;
    Scheduler& s = Shard::current()->scheduler();
    std::vector<FiberHandle> waiters;
    for (int i = 0; i < kWaiters; ++i) {
      waiters.push_back(s.spawn([&, i] {
        Result<int> v = futures[i].get();
        right += v && *v == i * 3 && this_shard_id() == 0;
      }));
    }
    // Shard 1 fulfils them in reverse order, from its own fibers.
    (void)rt.post(1, [&promises] {
      for (int i = kWaiters - 1; i >= 0; --i) promises[i].set_value(i * 3);
    });
    for (auto& w : waiters) w.join();
    return right;
  }).get();
  CHECK(*r == kWaiters);
  rt.stop();
}

TEST_CASE("stop completes and joins while fibers sleep, wait on futures or block in IO") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  std::atomic<int> finished{0};
  std::atomic<int> blocked{0};
  // Shard 0: a long stop-aware sleep, a wait for stop, and a future only shard 1's fiber
  // fulfils when it sees the stop.
  auto shared = std::make_shared<Promise<int>>();
  Future<int> future = shared->get_future();
  CHECK(rt.post(1, [&, shared] {
    ++blocked;
    Shard::current()->wait_for_stop();
    shared->set_value(7);
    ++finished;
  }));
  CHECK(rt.post(0, [&] {
    ++blocked;
    if (!Shard::current()->sleep_for_or_stop(1h)) ++finished;
  }));
  CHECK(rt.post(0, [&, f = std::move(future)]() mutable {
    ++blocked;
    if (*f.get() == 7) ++finished;
  }));
  // Shard 1: a listener blocked in accept and a connection blocked in recv. (No REQUIRE in
  // fibers: a failed one would throw through the fiber; the count of blocked fibers tells.)
  CHECK(rt.post(1, [&] {
    auto listener = Socket::listen({});
    if (!listener) return;
    const std::uint16_t port = listener->local_port();
    Shard::current()->scheduler().spawn([&, port] {
      auto conn = Socket::connect("127.0.0.1", port);
      if (!conn) return;
      std::array<std::byte, 16> buf;
      ++blocked;
      if (conn->recv(buf).status().is_cancelled()) ++finished;
      (void)conn->close();
    });
    auto accepted = listener->accept();  // the connection above
    if (!accepted) return;
    ++blocked;
    if (listener->accept().status().is_cancelled()) ++finished;
    (void)accepted->close();
    (void)listener->close();
  }));
  // A fiber that just sleeps a little is let finish.
  CHECK(rt.post(0, [&] {
    this_fiber::sleep_for(50ms);
    ++finished;
  }));
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (blocked.load() < 5 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(blocked.load() == 5);
  std::this_thread::sleep_for(20ms);  // let them all reach their blocking calls
  const auto start = std::chrono::steady_clock::now();
  rt.stop();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(finished.load() == 6);
}

TEST_CASE("an idle runtime uses almost no CPU") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  // Some work first, so the shards go idle from a busy state.
  for (int i = 0; i < 1000; ++i) (void)rt.submit(i % 2, [] { return 1; }).get();
  std::this_thread::sleep_for(50ms);
  const double before = cpu_seconds();
  std::this_thread::sleep_for(1s);
  const double used = cpu_seconds() - before;
  MESSAGE("CPU used by an idle 2-shard runtime over 1 s: " << used * 1000 << " ms");
  CHECK(used < 0.05);
  rt.stop();
}
