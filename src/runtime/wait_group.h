// WaitGroup: waits for a number of tasks to finish. add(n) before starting n tasks, each
// calls done() once, and wait() returns when the count is zero.
//
// Reaching zero wakes every fiber waiting at that moment; a woken waiter returns even if
// add() raised the count again before it ran (it saw the group finish). The count never goes
// below zero (done() without a matching add asserts); after zero the group can be reused.
// Timed waits follow condition_variable.h: a done() and a deadline in the same round wake
// the waiter exactly once, reporting whichever ran first.
//
// Calling rules: wait* from a fiber of this shard; add/done from anywhere on the shard
// thread. Destroying a WaitGroup while fibers wait asserts.
#pragma once

#include <cstddef>

#include "src/runtime/condition_variable.h"

namespace cascade::runtime {

class WaitGroup {
 public:
  void add(std::size_t n = 1) { count_ += n; }

  void done() {
    assert(count_ > 0 && "WaitGroup::done without a matching add");
    if (--count_ == 0) zero_.notify_all();
  }

  void wait() {
    if (count_ != 0) zero_.wait();
  }
  // True if the count reached zero before the deadline, false if the deadline passed first.
  [[nodiscard]] bool wait_until(TimePoint deadline) {
    return count_ == 0 || zero_.wait_until(deadline);
  }
  [[nodiscard]] bool wait_for(Duration d) { return wait_until(Clock::now() + d); }

  std::size_t count() const { return count_; }

 private:
  std::size_t count_ = 0;
  ConditionVariable zero_;
};

}  // namespace cascade::runtime
