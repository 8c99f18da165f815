// Future<T> / Promise<T>: a one-shot result handed from whoever computes it (the promise
// side) to whoever waits for it (the future side), across fibers, shards and threads.
//
// A result is an Outcome<T>: Result<T>, or Status for T = void, so an error (a refused call
// during shutdown, a promise dropped unfulfilled, an error the callee returned) travels the
// same path as a value. The two sides share one heap-allocated state, the only allocation
// per call; it is reference counted (one reference per side) and freed by the last side.
//
// Waiting. Future::get() may be called once, from
//   - a fiber: it records itself as the waiter and suspends (no spinning);
//   - a thread that is not running a shard loop: it blocks in std::atomic::wait (a futex).
// Calling it from a shard's scheduler context (the loop, a timer callback) would stall the
// shard and is a programming error (asserted).
//
// Fulfilling, from any thread, and how the waiter is woken:
//   - waiter is a fiber of the fulfilling thread: Scheduler::wake() directly;
//   - waiter is a fiber of another shard: the state's WakeNode is pushed to that shard's
//     WakeInbox and the shard wakes the fiber on its own thread (fibers are only ever woken
//     by their own thread). This path never waits for queue space (see wake_inbox.h);
//   - waiter is a plain thread: atomic notify.
//
// The protocol is one atomic word, `phase_`:
//   kEmpty --waiter--> kFiberWaiting | kThreadWaiting --fulfiller--> kReady
//   kEmpty --fulfiller--> kReady (the waiter then never sleeps)
// The waiter writes its identity (fiber, scheduler, inbox) and then publishes its phase with
// a compare-exchange (release); the fulfiller writes the outcome and then exchanges the phase
// to kReady (acq_rel): it acquires the waiter's identity if the waiter came first, and
// releases the outcome to a waiter that reads kReady with acquire. Exactly one of them sees
// the other, so the wake-up is never lost and never doubled. The fulfilling side holds its
// reference until after it has woken the waiter, so the state outlives the wake-up.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "src/runtime/result.h"
#include "src/runtime/scheduler.h"
#include "src/runtime/wake_inbox.h"

namespace cascade::runtime {

template <typename T>
using Outcome = std::conditional_t<std::is_void_v<T>, Status, Result<T>>;

// The T of the Future that carries what a callable returning R returns:
// void and Status -> void; Result<X> -> X; anything else -> itself.
template <typename R>
struct FutureValueOf {
  using type = R;
};
template <>
struct FutureValueOf<Status> {
  using type = void;
};
template <typename X>
struct FutureValueOf<Result<X>> {
  using type = X;
};
template <typename R>
using future_value_t = typename FutureValueOf<R>::type;

inline Status broken_promise() {
  return Status(StatusCode::kCancelled, "promise dropped without a result");
}

namespace detail {

// Privately a WakeNode: the node another shard's inbox runs to wake the waiting fiber.
class FutureStateBase : private WakeNode {
 public:
  FutureStateBase() { run = &run_remote_wake; }
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  bool ready() const { return phase_.load(std::memory_order_acquire) == kReady; }
  void add_ref() { refs_.fetch_add(1, std::memory_order_relaxed); }

  // Waits (suspending the fiber or blocking the thread) until the outcome is stored.
  void wait() {
    if (ready()) return;
    Scheduler* scheduler = Scheduler::current();
    if (scheduler != nullptr && scheduler->in_fiber()) {
      wait_in_fiber(*scheduler);
    } else {
      assert(WakeInbox::current() == nullptr && "Future::get() from a shard's loop context");
      wait_in_thread();
    }
  }

 protected:
  ~FutureStateBase() = default;

  // After the derived state stored the outcome: publish it and wake whoever waits.
  void publish() {
    const std::uint32_t before = phase_.exchange(kReady, std::memory_order_acq_rel);
    if (before == kFiberWaiting) {
      wake_fiber();
    } else if (before == kThreadWaiting) {
      phase_.notify_all();
    }
  }

  // Drops one reference; true if it was the last (the caller then deletes the state).
  bool release_ref() { return refs_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  enum : std::uint32_t { kEmpty, kFiberWaiting, kThreadWaiting, kReady };

  void wait_in_fiber(Scheduler& scheduler) {
    waiter_ = scheduler.current_fiber();
    waiter_scheduler_ = &scheduler;
    waiter_inbox_ = WakeInbox::current();
    std::uint32_t expected = kEmpty;
    if (!phase_.compare_exchange_strong(expected, kFiberWaiting, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return;  // fulfilled meanwhile (by another thread)
    }
    scheduler.suspend();
    assert(ready() && "a fiber awaiting a future was woken by someone else");
  }

  void wait_in_thread() {
    std::uint32_t expected = kEmpty;
    if (!phase_.compare_exchange_strong(expected, kThreadWaiting, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return;
    }
    while (phase_.load(std::memory_order_acquire) != kReady) {
      phase_.wait(kThreadWaiting, std::memory_order_acquire);
    }
  }

  void wake_fiber() {
    if (Scheduler::current() == waiter_scheduler_) {
      waiter_scheduler_->wake(waiter_);
      return;
    }
    assert(waiter_inbox_ != nullptr && "a fiber outside any shard can only be woken locally");
    waiter_inbox_->push(this);
  }

  static void run_remote_wake(WakeNode* node) {
    auto* self = static_cast<FutureStateBase*>(node);
    self->waiter_scheduler_->wake(self->waiter_);
  }

  std::atomic<std::uint32_t> phase_{kEmpty};
  std::atomic<std::uint32_t> refs_{1};
  // Written by the waiter before it publishes a waiting phase; read by the fulfiller after.
  Fiber* waiter_ = nullptr;
  Scheduler* waiter_scheduler_ = nullptr;
  WakeInbox* waiter_inbox_ = nullptr;
};

template <typename T>
class FutureState final : public FutureStateBase {
 public:
  void set(Outcome<T> outcome) {
    outcome_.emplace(std::move(outcome));
    publish();
  }
  Outcome<T> take() { return std::move(*outcome_); }
  void release() {
    if (release_ref()) delete this;
  }

 private:
  std::optional<Outcome<T>> outcome_;
};

}  // namespace detail

template <typename T>
class Promise;

template <typename T>
class [[nodiscard]] Future {
 public:
  Future() = default;
  Future(Future&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  Future& operator=(Future&& o) noexcept {
    if (this != &o) {
      reset();
      state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
  }
  ~Future() { reset(); }

  // A future that is already fulfilled (used where a call completes without queueing).
  static Future ready_with(Outcome<T> outcome);

  bool valid() const { return state_ != nullptr; }
  bool ready() const { return state_->ready(); }
  // Waits without taking the result.
  void wait() { state_->wait(); }
  // Waits and moves the result out. Once per future.
  Outcome<T> get() {
    assert(valid());
    state_->wait();
    return state_->take();
  }

 private:
  friend class Promise<T>;
  explicit Future(detail::FutureState<T>* s) : state_(s) {}
  void reset() {
    if (state_ != nullptr) std::exchange(state_, nullptr)->release();
  }

  detail::FutureState<T>* state_ = nullptr;
};

template <typename T>
class Promise {
 public:
  Promise() : state_(new detail::FutureState<T>) {}
  Promise(Promise&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  Promise& operator=(Promise&& o) noexcept {
    if (this != &o) {
      abandon();
      state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
  }
  // A promise dropped unfulfilled completes its future with broken_promise().
  ~Promise() { abandon(); }

  // Once, before the promise is handed to another thread. (No flag guards a second call:
  // a Promise is one pointer so a message carrying it stays small.)
  Future<T> get_future() {
    assert(state_ != nullptr);
    state_->add_ref();
    return Future<T>(state_);
  }

  bool fulfilled() const { return state_ == nullptr; }

  // Each fulfils the future once; the promise is empty afterwards.
  void set(Outcome<T> outcome) {
    assert(state_ != nullptr && "promise fulfilled twice");
    detail::FutureState<T>* s = std::exchange(state_, nullptr);
    s->set(std::move(outcome));
    s->release();  // only now: the waiter has been woken, so the state outlived the wake-up
  }
  void set_error(Status status) {
    assert(!status.is_ok());
    set(Outcome<T>(std::move(status)));
  }
  template <typename U = T>
    requires(!std::is_void_v<U>)
  void set_value(U value) {
    set(Outcome<T>(std::move(value)));
  }
  template <typename U = T>
    requires std::is_void_v<U>
  void set_value() {
    set(Status::ok());
  }

  // Runs fn() and fulfils the future with what it returns: void -> ok, Status -> as is,
  // Result<X> -> as is, X -> value. Only fn's own errors become errors.
  template <typename F>
  void set_from(F& fn) {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      fn();
      set(Status::ok());
    } else {
      set(Outcome<T>(fn()));
    }
  }

 private:
  void abandon() {
    if (state_ != nullptr) set_error(broken_promise());
  }

  detail::FutureState<T>* state_ = nullptr;
};

template <typename T>
Future<T> Future<T>::ready_with(Outcome<T> outcome) {
  Promise<T> p;
  Future<T> f = p.get_future();
  p.set(std::move(outcome));
  return f;
}

}  // namespace cascade::runtime
