// Runtime: the set of shards (one thread each, one per core by default) and the cross-shard
// calls between them.
//
// Calls. Each takes a callable run on the target shard, inside a fiber (it may suspend):
//   submit(shard, fn)  -> Future<T>   WAIT: await the result with get(). T follows fn's
//                                     return: void/Status -> void, Result<X> -> X, X -> X.
//   post(shard, fn)    -> Status      NOWAIT: fire and forget; fn's result is dropped.
//   run_on(shards, fn) -> vector      fork-join: fn on every listed shard at once, every
//                                     Outcome<T> returned in the order of `shards`.
//   run_on_each(fn)                   run_on over every shard.
// Who may call: a fiber of any shard (the fiber suspends while it waits, and while the lane
// to the target is full), or a thread outside the runtime (it blocks). A call to the
// caller's own shard uses no queue: submit/run_on run fn right there in the calling fiber;
// post queues fn for one of the shard's workers. Outside a fiber on a shard thread (a timer
// callback) only post and submit without get() are allowed; such a send that finds its lane
// full is handed to a helper fiber, so it may arrive after later sends.
//
// Order: messages one fiber sends to one shard start there in the order sent (a message
// that suspends lets the ones behind it run). Nothing is dropped: lanes are bounded and a
// full lane makes the sender wait (see message_lane.h, and shard.h for why two shards with
// full lanes to each other still make progress). Memory: everything fn's caller wrote
// before the call happens-before fn runs (the lane's release/acquire), and everything fn
// wrote happens-before get() returns (the future's phase word; see future.h).
//
// Errors: a call from outside the runtime when it is not running (not started, or stop()
// has begun) is refused with Status::shutdown() and fn never runs. Calls between shards are
// never refused, so fibers can finish what they do while the runtime stops.
//
// stop(), from a thread outside the runtime, in order:
//   1. refuse new outside calls, and wait for outside calls already admitted to be queued;
//   2. every shard: stop_requested() becomes true, fibers in wait_for_stop() or
//      sleep_until_or_stop() wake, and IO in flight is cancelled (blocked recv/accept return);
//   3. wait for quiescence: every shard idle (no fibers but parked workers) and every lane
//      drained, seen in two consecutive snapshots with nothing changed in between. A shard
//      only leaves idle by taking a message, and marks itself busy before it takes one, so
//      two equal snapshots with all idle and sent == received mean that, at a moment between
//      them, no fiber lived and no message was in flight anywhere: nothing could start again;
//   4. end every loop and join the threads.
// Fibers must therefore finish once they see the stop (a fiber that never does keeps stop()
// waiting); work already queued still runs.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "src/runtime/future.h"
#include "src/runtime/result.h"
#include "src/runtime/shard.h"
#include "src/runtime/task.h"

namespace cascade::runtime {

struct RuntimeOptions {
  std::size_t shards = 0;  // 0: one per core (std::thread::hardware_concurrency)
  bool pin = false;        // pin shard i to cpu i mod the number of cores
  ShardOptions shard;      // scheduler, reactor, lane capacities, worker policy
};

template <typename F>
using call_value_t = future_value_t<std::invoke_result_t<std::decay_t<F>&>>;

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();  // stop()s a running runtime
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts every shard thread; fails (and starts none) if one cannot set up its reactor.
  Status start();
  // See the file comment. Idempotent; from a thread outside the runtime.
  void stop();

  bool running() const { return running_; }
  std::size_t shard_count() const { return shards_.size(); }
  Shard& shard(ShardId id) { return *shards_[id]; }

  template <typename F>
  Future<call_value_t<F>> submit(ShardId target, F&& fn);

  template <typename F>
  Status post(ShardId target, F&& fn);

  template <typename F>
  std::vector<Outcome<call_value_t<F>>> run_on(std::span<const ShardId> targets, const F& fn);

  template <typename F>
  std::vector<Outcome<call_value_t<F>>> run_on_each(const F& fn);

 private:
  // RAII admission of a call from outside the runtime (step 1 of stop()).
  class OutsideCall {
   public:
    explicit OutsideCall(Runtime& rt);
    ~OutsideCall();
    bool admitted() const { return admitted_; }

   private:
    Runtime& rt_;
    bool admitted_;
  };

  // The calling thread's shard if it belongs to this runtime, else nullptr.
  Shard* local_shard() const {
    Shard* s = Shard::current();
    return (s != nullptr && &s->runtime() == this) ? s : nullptr;
  }
  void wait_until_quiescent();

  RuntimeOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  bool running_ = false;
  std::atomic<bool> accepting_{false};
  std::atomic<std::uint32_t> outside_calls_{0};
};

template <typename F>
Future<call_value_t<F>> Runtime::submit(ShardId target, F&& fn) {
  using T = call_value_t<F>;
  Shard* here = local_shard();
  if (here != nullptr && here->id() == target && here->scheduler().in_fiber()) {
    // Same shard, in a fiber: no queue, no switch; the caller would wait for it anyway.
    Promise<T> promise;
    Future<T> future = promise.get_future();
    std::decay_t<F> local(std::forward<F>(fn));
    promise.set_from(local);
    return future;
  }
  std::optional<OutsideCall> admission;
  if (here == nullptr) {
    admission.emplace(*this);
    if (!admission->admitted()) return Future<T>::ready_with(Status::shutdown("runtime is not running"));
  }
  assert(target < shards_.size());
  Promise<T> promise;
  Future<T> future = promise.get_future();
  Task call([fn = std::forward<F>(fn), promise = std::move(promise)]() mutable {
    promise.set_from(fn);
  });
  if (here == nullptr) {
    shards_[target]->send_external(std::move(call));
  } else if (here->id() == target) {
    here->run_here(std::move(call));
  } else {
    here->send_to(target, std::move(call));
  }
  return future;
}

template <typename F>
Status Runtime::post(ShardId target, F&& fn) {
  auto call = [fn = std::forward<F>(fn)]() mutable { static_cast<void>(fn()); };
  if (Shard* here = local_shard()) {
    assert(target < shards_.size());
    if (here->id() == target) {
      here->run_here(Task(std::move(call)));
    } else {
      here->send_to(target, Task(std::move(call)));
    }
    return Status::ok();
  }
  OutsideCall admission(*this);
  if (!admission.admitted()) return Status::shutdown("runtime is not running");
  assert(target < shards_.size());
  shards_[target]->send_external(Task(std::move(call)));
  return Status::ok();
}

template <typename F>
std::vector<Outcome<call_value_t<F>>> Runtime::run_on(std::span<const ShardId> targets,
                                                      const F& fn) {
  using T = call_value_t<F>;
  std::vector<Future<T>> futures(targets.size());
  // Other shards first, so they work while the caller's own share runs inline.
  Shard* here = local_shard();
  const bool inline_here = here != nullptr && here->scheduler().in_fiber();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!(inline_here && targets[i] == here->id())) futures[i] = submit(targets[i], F(fn));
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!futures[i].valid()) futures[i] = submit(targets[i], F(fn));
  }
  std::vector<Outcome<T>> results;
  results.reserve(targets.size());
  for (auto& f : futures) results.push_back(f.get());
  return results;
}

template <typename F>
std::vector<Outcome<call_value_t<F>>> Runtime::run_on_each(const F& fn) {
  std::vector<ShardId> all(shards_.size());
  for (ShardId i = 0; i < all.size(); ++i) all[i] = i;
  return run_on(std::span<const ShardId>(all), fn);
}

}  // namespace cascade::runtime
