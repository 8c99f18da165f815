// Semaphore: a count of permits that fibers acquire and release, n at a time.
//
// Strict FIFO: a request is granted only when every request before it has been, so a large
// request at the head is not starved by a stream of small ones (they queue behind it), and
// try_acquire fails while anyone waits even if enough permits are free.
//
// Permits are handed over, never raced for: release() grants waiters from the head, in
// order, while the head's request fits, deducting the permits for it before it runs. A
// timed-out waiter was never granted anything (condition_variable.h's race rule), so it
// holds no permits when it returns false. When the head times out, the requests behind it
// may fit; its fiber grants them when it runs again (in the next round at the latest), and
// until then try_acquire still fails because they wait.
//
// Calling rules: acquire* from a fiber of this shard; try_acquire and release from anywhere
// on the shard thread (a timer callback may release). The count has no upper bound: release
// may add permits nobody took. Destroying a Semaphore while fibers wait asserts.
#pragma once

#include <cstddef>

#include "src/runtime/condition_variable.h"

namespace cascade::runtime {

class Semaphore {
 public:
  explicit Semaphore(std::size_t permits = 0) : permits_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  void acquire(std::size_t n = 1) {
    if (try_acquire(n)) return;
    Request r(n);
    waiters_.park(r);  // granted: release() deducted our permits
  }

  // True if the n permits were acquired, false (holding none) if the deadline passed first.
  [[nodiscard]] bool acquire_until(TimePoint deadline, std::size_t n = 1) {
    if (try_acquire(n)) return true;
    Request r(n);
    if (waiters_.park_until(r, deadline)) return true;
    grant();  // we may have been the head holding back requests that fit now
    return false;
  }
  [[nodiscard]] bool acquire_for(Duration d, std::size_t n = 1) {
    return acquire_until(Clock::now() + d, n);
  }

  // Takes n permits if they are free and nobody waits ahead.
  [[nodiscard]] bool try_acquire(std::size_t n = 1) {
    if (!waiters_.empty() || permits_ < n) return false;
    permits_ -= n;
    return true;
  }

  void release(std::size_t n = 1) {
    permits_ += n;
    grant();
  }

  // Permits free and not yet granted to anyone.
  std::size_t available() const { return permits_; }
  std::size_t waiters() const { return waiters_.size(); }

 private:
  struct Request : Waiter {
    explicit Request(std::size_t n) : permits(n) {}
    std::size_t permits;
  };

  void grant() {
    while (Request* r = waiters_.front_as<Request>()) {
      if (r->permits > permits_) return;
      permits_ -= r->permits;
      waiters_.notify(*r);
    }
  }

  std::size_t permits_;
  WaiterList waiters_;
};

}  // namespace cascade::runtime
