#include "src/runtime/future.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "src/runtime/scheduler.h"
#include "src/runtime/wake_inbox.h"

using namespace cascade;
using namespace cascade::runtime;
using namespace std::chrono_literals;

TEST_CASE("a fiber awaiting a future suspends until another fiber fulfils it") {
  Scheduler s;
  Promise<int> promise;
  Future<int> future = promise.get_future();
  std::string trace;
  s.spawn([&] {
    trace += "wait ";
    Result<int> r = future.get();
    REQUIRE(r.has_value());
    trace += "got " + std::to_string(*r);
  });
  s.spawn([&] {
    trace += "set ";
    promise.set_value(42);
  });
  CHECK(s.run());
  CHECK(trace == "wait set got 42");
}

TEST_CASE("a future fulfilled before get returns without suspending") {
  Scheduler s;
  Promise<std::string> promise;
  Future<std::string> future = promise.get_future();
  promise.set_value("early");
  CHECK(future.ready());
  bool got = false;
  s.spawn([&] {
    std::uint64_t switches = s.stats().switches;
    Result<std::string> r = future.get();
    CHECK(s.stats().switches == switches);
    got = r.has_value() && *r == "early";
  });
  CHECK(s.run());
  CHECK(got);
}

TEST_CASE("a promise dropped unfulfilled completes its future with an error") {
  Future<int> future;
  {
    Promise<int> promise;
    future = promise.get_future();
  }
  Result<int> r = future.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is_cancelled());
}

TEST_CASE("future<void> carries a status, ok or not") {
  Promise<void> ok;
  Future<void> ok_future = ok.get_future();
  ok.set_value();
  CHECK(ok_future.get().is_ok());

  Promise<void> bad;
  Future<void> bad_future = bad.get_future();
  bad.set_error(Status::io_error("disk on fire"));
  Status s = bad_future.get();
  CHECK(s.code() == StatusCode::kIoError);
  CHECK(s.message() == "disk on fire");
}

TEST_CASE("set_from maps what a callable returns onto the future") {
  Promise<int> plain;
  Future<int> plain_future = plain.get_future();
  auto seven = [] { return 7; };
  plain.set_from(seven);
  CHECK(*plain_future.get() == 7);

  Promise<int> failing;
  Future<int> failing_future = failing.get_future();
  auto fails = []() -> Result<int> { return Status::not_found("no such key"); };
  failing.set_from(fails);
  CHECK(failing_future.get().error().is_not_found());

  Promise<void> status;
  Future<void> status_future = status.get_future();
  auto corrupt = [] { return Status::corruption("bad block"); };
  status.set_from(corrupt);
  CHECK(status_future.get().is_corruption());

  Promise<void> nothing;
  Future<void> nothing_future = nothing.get_future();
  int calls = 0;
  auto counts = [&] { ++calls; };
  nothing.set_from(counts);
  CHECK(nothing_future.get().is_ok());
  CHECK(calls == 1);
}

TEST_CASE("a thread blocks on a future until another thread fulfils it") {
  Promise<int> promise;
  Future<int> future = promise.get_future();
  std::atomic<bool> set{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(20ms);
    set.store(true);
    promise.set_value(5);
  });
  Result<int> r = future.get();
  CHECK(set.load());
  CHECK(*r == 5);
  setter.join();
}

TEST_CASE("a fiber's future fulfilled by another thread is woken through its own inbox") {
  // A minimal shard: one scheduler and a wake inbox on this thread, a loop that runs the
  // inbox and the scheduler. The fulfilling thread must never touch the fiber itself.
  std::atomic<int> notified{0};
  WakeInbox inbox([](void* n) { static_cast<std::atomic<int>*>(n)->fetch_add(1); }, &notified);
  WakeInbox::set_current(&inbox);
  Scheduler s;
  constexpr int kRounds = 200;
  int sum = 0;
  std::atomic<Promise<int>*> handoff{nullptr};
  std::thread fulfiller([&] {
    for (int i = 0; i < kRounds; ++i) {
      Promise<int>* p;
      while ((p = handoff.exchange(nullptr)) == nullptr) std::this_thread::yield();
      p->set_value(i);
    }
  });
  s.spawn([&] {
    for (int i = 0; i < kRounds; ++i) {
      Promise<int> p;
      Future<int> f = p.get_future();
      handoff.store(&p);
      sum += *f.get();
    }
  });
  while (s.live_fibers() != 0) {
    inbox.run_all();
    s.run_round();
    std::this_thread::yield();
  }
  fulfiller.join();
  WakeInbox::set_current(nullptr);
  CHECK(sum == kRounds * (kRounds - 1) / 2);
  CHECK(notified.load() >= 1);
}
