// A token bucket in bytes per second that paces background IO (flush, compaction, GC).
//
// acquire(n) returns once n bytes' worth of tokens were taken, suspending the calling fiber
// (on a scheduler timer) while the bucket is short. Tokens accrue at rate() bytes/s up to
// burst() bytes; the bucket starts full. A request larger than the burst is granted in
// burst-sized pieces, so a single huge request cannot bank more than one burst ahead.
//
// Waiters are served first come, first served: the first waiter sleeps until its piece is
// covered, the others queue behind it without timers. set_rate() and set_burst() take
// effect at once, also for the fiber already sleeping (its timer is withdrawn and it
// recomputes). A rate of 0 means unlimited: acquire() returns at once and waiters are
// released.
//
// Concurrency: one RateLimiter per shard, used only by fibers of that shard's scheduler;
// not thread-safe. acquire() must be called from a fiber. Destroy it with no waiters.
#pragma once

#include <cstdint>

#include "src/runtime/fiber.h"
#include "src/runtime/timer_queue.h"

namespace cascade::runtime {

class RateLimiter {
 public:
  // burst_bytes 0: a burst of 100 ms at the rate (at least kMinBurst), following the rate.
  explicit RateLimiter(std::uint64_t bytes_per_second, std::uint64_t burst_bytes = 0);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  static constexpr std::uint64_t kMinBurst = 4096;

  void acquire(std::uint64_t bytes);

  void set_rate(std::uint64_t bytes_per_second);
  void set_burst(std::uint64_t burst_bytes);  // 0: back to the default burst
  std::uint64_t rate() const { return rate_; }
  // Every byte acquire() was asked for since construction, paced or not (stats, tests).
  std::uint64_t charged() const { return charged_; }
  std::uint64_t burst() const { return burst_; }
  std::size_t waiting() const { return queue_.size() + (head_sleeping_ != nullptr ? 1 : 0); }

 private:
  void refill(TimePoint now);
  void take(std::uint64_t bytes);
  void sleep_until_covered(double needed);
  void wake_sleeping_head();
  void recompute_burst();

  std::uint64_t rate_;
  std::uint64_t charged_ = 0;
  std::uint64_t burst_ = 0;
  std::uint64_t configured_burst_;
  double tokens_ = 0;
  TimePoint last_refill_;

  bool head_busy_ = false;          // a fiber is being served; others queue
  WaitQueue queue_;
  Fiber* head_sleeping_ = nullptr;  // the served fiber while it sleeps on head_timer_
  TimerId head_timer_;
};

}  // namespace cascade::runtime
