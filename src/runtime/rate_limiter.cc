// See rate_limiter.h. Tokens are kept as a double so fractional accrual between frequent
// small acquires is not lost to rounding.
#include "src/runtime/rate_limiter.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>

#include "src/runtime/scheduler.h"

namespace cascade::runtime {

RateLimiter::RateLimiter(std::uint64_t bytes_per_second, std::uint64_t burst_bytes)
    : rate_(bytes_per_second), configured_burst_(burst_bytes), last_refill_(Clock::now()) {
  recompute_burst();
  tokens_ = static_cast<double>(burst_);
}

RateLimiter::~RateLimiter() {
  assert(waiting() == 0 && !head_busy_ && "RateLimiter destroyed with waiting fibers");
  if (head_sleeping_ != nullptr) head_sleeping_->scheduler().cancel_timer(head_timer_);
}

void RateLimiter::recompute_burst() {
  if (configured_burst_ != 0) {
    burst_ = configured_burst_;
  } else {
    burst_ = std::max(kMinBurst, rate_ / 10);
  }
  tokens_ = std::min(tokens_, static_cast<double>(burst_));
}

void RateLimiter::refill(TimePoint now) {
  if (now <= last_refill_) return;
  double seconds = std::chrono::duration<double>(now - last_refill_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + seconds * static_cast<double>(rate_));
  last_refill_ = now;
}

void RateLimiter::acquire(std::uint64_t bytes) {
  charged_ += bytes;
  if (rate_ == 0 || bytes == 0) return;
  Scheduler* sched = Scheduler::current();
  assert(sched != nullptr && sched->in_fiber() && "RateLimiter::acquire outside a fiber");
  if (head_busy_) {
    // The fiber ahead of us hands head_busy_ over when it is done: being woken is our turn.
    Fiber* self = sched->current_fiber();
    queue_.push_back(self);
    while (queue_.contains(self)) sched->suspend();
  }
  head_busy_ = true;
  take(bytes);
  if (Fiber* next = queue_.pop_front()) {
    next->scheduler().wake(next);
  } else {
    head_busy_ = false;
  }
}

void RateLimiter::take(std::uint64_t bytes) {
  while (bytes > 0 && rate_ != 0) {
    std::uint64_t piece = std::min(bytes, burst_);
    refill(Clock::now());
    if (tokens_ >= static_cast<double>(piece)) {
      tokens_ -= static_cast<double>(piece);
      bytes -= piece;
    } else {
      sleep_until_covered(static_cast<double>(piece));
    }
  }
}

void RateLimiter::sleep_until_covered(double needed) {
  Scheduler* sched = Scheduler::current();
  double seconds = (needed - tokens_) / static_cast<double>(rate_);
  // Rounded up (plus a microsecond) so the refill after waking covers the piece.
  auto wait = std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9))) +
              std::chrono::microseconds(1);
  head_sleeping_ = sched->current_fiber();
  head_timer_ = sched->add_timer(Clock::now() + wait, [this] { wake_sleeping_head(); });
  sched->suspend();
  head_sleeping_ = nullptr;
}

void RateLimiter::wake_sleeping_head() {
  if (Fiber* f = head_sleeping_) f->scheduler().wake(f);
}

void RateLimiter::set_rate(std::uint64_t bytes_per_second) {
  TimePoint now = Clock::now();
  refill(now);  // what accrued so far accrued at the old rate
  last_refill_ = now;
  rate_ = bytes_per_second;
  recompute_burst();
  // Withdraw the sleeper's timer (if it has not fired) and let it recompute at the new rate.
  if (head_sleeping_ != nullptr && head_sleeping_->scheduler().cancel_timer(head_timer_)) {
    wake_sleeping_head();
  }
}

void RateLimiter::set_burst(std::uint64_t burst_bytes) {
  refill(Clock::now());
  configured_burst_ = burst_bytes;
  recompute_burst();
  if (head_sleeping_ != nullptr && head_sleeping_->scheduler().cancel_timer(head_timer_)) {
    wake_sleeping_head();
  }
}

}  // namespace cascade::runtime
