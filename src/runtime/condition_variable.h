// Parking fibers on a condition, with or without a deadline: the Waiter record and the
// WaiterList every blocking primitive of a shard is built on (Mutex, Semaphore, Channel,
// Event, WaitGroup), and ConditionVariable, the plain "wait until notified" primitive.
//
// No allocation per wait. A wait is a Waiter record on the waiting fiber's own stack,
// linked into the primitive's WaiterList (intrusive, FIFO, O(1) unlink). A primitive that
// needs to know something about each waiter (how many permits it asks for, where a value
// should go) derives its record from Waiter and finds it again at the front of its list.
// A timed wait also arms one timer whose callback holds only the record's address, so the
// timer queue keeps it inline and reuses its slot.
//
// The race rule (fiber.h: whoever parks a fiber is the only one who may wake it). A timed
// wait has two wakers, the list's notifier and the deadline timer. Whichever takes the
// record OFF THE LIST first wins and wakes the fiber; the other finds it gone and does
// nothing. Both run on the shard thread one at a time, so "still linked?" is a plain check:
//   - notify(w) unlinks w, marks it notified and makes its fiber ready. A primitive that
//     hands something over (permits, a value) does it before notify, in the same step, so
//     a notified waiter has succeeded even if it runs only after its deadline passed, and a
//     waiter that timed out was never given anything. Nothing is lost or consumed twice.
//   - the deadline timer, if the record is still linked, unlinks it, marks it timed out and
//     makes the fiber ready; if it was notified earlier in the same round it does nothing.
//   - the fiber, once it runs again, cancels its timer before the record leaves its stack,
//     so no timer outlives the record it points to and none can wake the fiber later.
//
// Calling rules: wait/park only from a fiber of the calling thread's scheduler; notify from
// a fiber or from the scheduler's own context (a timer callback, the shard loop). There is
// no mutex to pass: the fibers of a shard never run at the same time, so nothing runs
// between a fiber checking its condition and parking.
//
// Destruction: a WaiterList, and so every primitive here, must not be destroyed while
// fibers are parked on it (it asserts, like WaitQueue): nothing could ever wake them.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "src/runtime/fiber.h"
#include "src/runtime/timer_queue.h"

namespace cascade::runtime {

class WaiterList;

// One wait of one fiber; lives on that fiber's stack for the duration of the wait and is
// used once. The fields are owned by the WaiterList it is linked into.
struct Waiter {
  enum class State : std::uint8_t { kIdle, kWaiting, kNotified, kTimedOut };

  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter() { assert(list == nullptr && "a wait record left the stack while still linked"); }

  bool notified() const { return state == State::kNotified; }

  Fiber* fiber = nullptr;
  WaiterList* list = nullptr;  // non-null exactly while linked
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  State state = State::kIdle;
};

// A FIFO of parked fibers' wait records.
class WaiterList {
 public:
  WaiterList() = default;
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;
  ~WaiterList() { assert(empty() && "a primitive was destroyed with fibers waiting on it"); }

  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }
  Waiter* front() const { return head_; }
  // The front record as the primitive's own record type (every record on a given list has
  // the same type), or nullptr.
  template <typename Record>
  Record* front_as() const { return static_cast<Record*>(head_); }

  // Parks the running fiber as `w` at the back of the list until notify(w).
  void park(Waiter& w);
  // Same, but gives up at `deadline`: true if notified, false if the deadline won. A
  // deadline that has already passed returns false at once without parking.
  [[nodiscard]] bool park_until(Waiter& w, TimePoint deadline);

  // Unlinks `w` (which must be on this list), marks it notified and makes its fiber ready.
  void notify(Waiter& w);
  // Notifies every waiter in FIFO order; returns how many.
  std::size_t notify_all();

 private:
  void link(Waiter& w);
  void unlink(Waiter& w);
  static void expire(Waiter* w);  // the deadline timer's callback

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

// Waits for a notification. The condition itself lives in the caller's state; use the
// predicate forms, since a notified fiber runs later and the condition may have changed.
class ConditionVariable {
 public:
  void wait() {
    Waiter w;
    waiters_.park(w);
  }
  // True if notified, false if the deadline passed first.
  [[nodiscard]] bool wait_until(TimePoint deadline) {
    Waiter w;
    return waiters_.park_until(w, deadline);
  }
  [[nodiscard]] bool wait_for(Duration d) { return wait_until(Clock::now() + d); }

  template <typename Predicate>
  void wait(Predicate ready) {
    while (!ready()) wait();
  }
  // Returns ready() as last evaluated: false only if the deadline passed while not ready.
  template <typename Predicate>
  [[nodiscard]] bool wait_until(TimePoint deadline, Predicate ready) {
    while (!ready()) {
      if (!wait_until(deadline)) return ready();
    }
    return true;
  }

  // Wakes the longest waiter; false if there was none.
  bool notify_one() {
    Waiter* w = waiters_.front();
    if (w == nullptr) return false;
    waiters_.notify(*w);
    return true;
  }
  std::size_t notify_all() { return waiters_.notify_all(); }
  std::size_t waiters() const { return waiters_.size(); }

 private:
  WaiterList waiters_;
};

}  // namespace cascade::runtime
