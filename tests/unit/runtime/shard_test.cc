#include "src/runtime/shard.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "src/runtime/future.h"
#include "src/runtime/runtime.h"

using namespace cascade;
using namespace cascade::runtime;
using namespace std::chrono_literals;

namespace {

RuntimeOptions shards(std::size_t n) {
  RuntimeOptions o;
  o.shards = n;
  return o;
}

}  // namespace

TEST_CASE("Shard::current names the shard a message runs on; outside threads have none") {
  Runtime rt(shards(3));
  REQUIRE(rt.start());
  CHECK(Shard::current() == nullptr);
  for (ShardId id = 0; id < 3; ++id) {
    auto same = rt.submit(id, [&rt, id] {
      return Shard::current() == &rt.shard(id) && this_shard_id() == id &&
             Scheduler::current() == &rt.shard(id).scheduler();
    }).get();
    CHECK(*same);
  }
  rt.stop();
}

TEST_CASE("a message that suspends does not hold up the messages behind it") {
  Runtime rt(shards(1));
  REQUIRE(rt.start());
  Promise<void> release;
  auto released = std::make_shared<Future<void>>(release.get_future());
  std::atomic<bool> first_done{false};
  CHECK(rt.post(0, [released, &first_done] {
    (void)released->get();
    first_done = true;
  }));
  int behind = 0;  // touched only on shard 0
  for (int i = 0; i < 100; ++i) CHECK(rt.post(0, [&behind] { ++behind; }));
  CHECK(*rt.submit(0, [&behind] { return behind; }).get() == 100);
  CHECK_FALSE(first_done.load());
  release.set_value();
  CHECK(*rt.submit(0, [] { return 0; }).get() == 0);
  rt.stop();
  CHECK(first_done.load());
  CHECK(rt.shard(0).workers_spawned() >= 2);
}

TEST_CASE("workers are reused: thousands of messages run on a handful of fibers") {
  Runtime rt(shards(2));
  REQUIRE(rt.start());
  std::atomic<int> ran{0};
  for (int i = 0; i < 20'000; ++i) CHECK(rt.post(i % 2, [&ran] { ++ran; }));
  (void)rt.run_on_each([] { return 0; });
  rt.stop();
  CHECK(ran.load() == 20'000);
  CHECK(rt.shard(0).messages_run() >= 10'000);
  CHECK(rt.shard(0).workers_spawned() <= 2);
  CHECK(rt.shard(1).workers_spawned() <= 2);
}

TEST_CASE("sleep_until_or_stop sleeps to its deadline, and returns early once stopping") {
  Runtime rt(shards(1));
  REQUIRE(rt.start());
  auto slept = rt.submit(0, [] {
    const auto start = Clock::now();
    const bool full = Shard::current()->sleep_for_or_stop(20ms);
    return full && Clock::now() - start >= 20ms && !Shard::current()->stop_requested();
  }).get();
  CHECK(*slept);

  std::atomic<int> state{0};  // 1: sleeping, 2: woke early and saw the stop
  CHECK(rt.post(0, [&state] {
    state = 1;
    const bool full = Shard::current()->sleep_for_or_stop(1h);
    if (!full && Shard::current()->stop_requested()) state = 2;
  }));
  while (state.load() != 1) std::this_thread::sleep_for(1ms);
  const auto start = std::chrono::steady_clock::now();
  rt.stop();
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(state.load() == 2);
}

TEST_CASE("a send from the scheduler context to a full lane is finished by a helper fiber") {
  RuntimeOptions o = shards(2);
  o.shard.peer_lane_capacity = 2;
  Runtime rt(o);
  REQUIRE(rt.start());
  std::atomic<bool> receiver_blocked{false};
  // Block shard 1's whole thread for a while, so its lanes fill up.
  CHECK(rt.post(1, [&receiver_blocked] {
    receiver_blocked = true;
    std::this_thread::sleep_for(100ms);
  }));
  while (!receiver_blocked.load()) std::this_thread::sleep_for(1ms);
  int delivered = 0;  // touched only on shard 1
  auto sent = rt.submit(0, [&rt, &delivered] {
    Scheduler& s = Shard::current()->scheduler();
    bool fired = false;
    // A timer callback runs in the scheduler context, where a send must never block.
    (void)s.add_timer(Clock::now(), [&rt, &delivered, &fired] {
      for (int i = 0; i < 50; ++i) (void)rt.post(1, [&delivered] { ++delivered; });
      fired = true;
    });
    while (!fired) s.yield();
    return true;
  }).get();
  CHECK(*sent);
  rt.stop();  // drains every lane, the helper fibers' sends included
  CHECK(delivered == 50);
  CHECK(rt.shard(0).helper_sends() > 0);
}

TEST_CASE("the fiber-per-message mode runs every message, suspending ones included") {
  RuntimeOptions o = shards(2);
  o.shard.fiber_per_message = true;
  Runtime rt(o);
  REQUIRE(rt.start());
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) {
    CHECK(rt.post(i % 2, [&ran, i] {
      if (i % 100 == 0) this_fiber::sleep_for(1ms);
      ++ran;
    }));
  }
  auto r = rt.submit(0, [&rt] { return *rt.submit(1, [] { return 9; }).get(); }).get();
  CHECK(*r == 9);
  rt.stop();
  CHECK(ran.load() == 1000);
}
