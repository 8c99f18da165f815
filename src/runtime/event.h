// Event: a manual-reset flag fibers can wait for.
//
// set() raises the flag and wakes every fiber waiting for it; the flag stays up, so later
// waits return at once, until reset(). A waiter woken by set() returns true even if the
// event was reset again before it ran: it saw the event happen (a pulse set(); reset();
// wakes everyone waiting at that moment and nobody after).
//
// Timed waits follow condition_variable.h: a set() in the same scheduler round as a
// waiter's deadline wakes it exactly once, as set (true) if set() ran first and as timed
// out (false) if the deadline ran first. wait_until never consumes anything, so there is
// no signal to lose either way.
//
// Calling rules: wait* from a fiber of this shard; set/reset/is_set from anywhere on the
// shard thread (a fiber, a timer callback, the loop). Destroying an Event while fibers
// wait on it asserts.
#pragma once

#include "src/runtime/condition_variable.h"

namespace cascade::runtime {

class Event {
 public:
  explicit Event(bool set = false) : set_(set) {}

  void set() {
    set_ = true;
    waiters_.notify_all();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }
  std::size_t waiters() const { return waiters_.waiters(); }

  // Returns once the event is set (at once if it is).
  void wait() {
    if (!set_) waiters_.wait();
  }
  // True if the event was set before the deadline, false if the deadline passed first.
  [[nodiscard]] bool wait_until(TimePoint deadline) {
    return set_ || waiters_.wait_until(deadline);
  }
  [[nodiscard]] bool wait_for(Duration d) { return wait_until(Clock::now() + d); }

 private:
  bool set_;
  ConditionVariable waiters_;
};

}  // namespace cascade::runtime
