// Mutex: mutual exclusion between the fibers of one shard, for a critical section that
// suspends (IO, a yield) in the middle; code that does not suspend needs no lock at all.
//
// Fairness by handoff: unlock() with fibers waiting makes the longest waiter the owner
// before it even runs, so neither the unlocking fiber (locking again at once) nor a
// newcomer (try_lock) can barge in ahead of it. Waiters acquire in FIFO order. The
// invariant: the mutex is free only if nobody waits for it.
//
// The owner is a fiber. lock, unlock and try_lock must be called from a fiber of this
// shard; unlock by any fiber but the owner asserts, and so does locking twice from the same
// fiber (not recursive). Destroying a Mutex while fibers wait on it asserts. There is no
// timed lock: nothing in the server needs one yet.
#pragma once

#include "src/runtime/condition_variable.h"
#include "src/runtime/scheduler.h"

namespace cascade::runtime {

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  ~Mutex() { assert(owner_ == nullptr && "a Mutex was destroyed while held"); }

  void lock() {
    Fiber* self = running_fiber();
    if (owner_ == nullptr) {
      owner_ = self;
      return;
    }
    assert(owner_ != self && "Mutex is not recursive");
    Waiter w;
    waiters_.park(w);
    assert(owner_ == self && "unlock hands the mutex to the waiter it wakes");
  }

  [[nodiscard]] bool try_lock() {
    if (owner_ != nullptr) return false;
    owner_ = running_fiber();
    return true;
  }

  void unlock() {
    assert(owner_ != nullptr && owner_ == running_fiber() &&
           "unlock by a fiber that does not own the Mutex");
    Waiter* next = waiters_.front();
    owner_ = next ? next->fiber : nullptr;
    if (next) waiters_.notify(*next);
  }

  bool is_locked() const { return owner_ != nullptr; }
  std::size_t waiters() const { return waiters_.size(); }

 private:
  static Fiber* running_fiber() {
    Scheduler* s = Scheduler::current();
    assert(s != nullptr && s->in_fiber() && "a Mutex is held by a fiber");
    return s->current_fiber();
  }

  Fiber* owner_ = nullptr;
  WaiterList waiters_;
};

// Holds a Mutex for the guard's scope.
class [[nodiscard]] MutexGuard {
 public:
  explicit MutexGuard(Mutex& m) : mutex_(m) { mutex_.lock(); }
  ~MutexGuard() { mutex_.unlock(); }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace cascade::runtime
