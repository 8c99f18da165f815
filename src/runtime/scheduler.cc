#include "src/runtime/scheduler.h"

#include <boost/context/detail/exception.hpp>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <exception>
#include <thread>

namespace cascade::runtime {
namespace {
thread_local Scheduler* tls_scheduler = nullptr;
}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : options_(options), stacks_(options.stacks), last_credit_time_(Clock::now()), round_start_(last_credit_time_) {
  assert(tls_scheduler == nullptr && "one scheduler per thread");
  tls_scheduler = this;
}

Scheduler::~Scheduler() {
  assert(live_ == 0 && "a scheduler was destroyed with live fibers");
  if (tls_scheduler == this) tls_scheduler = nullptr;
}

Scheduler* Scheduler::current() { return tls_scheduler; }

void Scheduler::set_background_share(double share) {
  options_.background_share = std::clamp(share, 0.0, 1.0);
}

FiberHandle Scheduler::spawn(std::function<void()> fn, SpawnOptions options) {
  auto* f = new Fiber(this, std::move(fn), next_id_++, options);
  f->context_ = boost::context::fiber(
      std::allocator_arg, PooledStack(stacks_, options.stack, &f->stack_context_),
      [f](boost::context::fiber&& caller) {
        asan::finish_switch(nullptr, &f->scheduler_->thread_stack_);
        f->caller_ = std::move(caller);
        try {
          f->fn_();
        } catch (const boost::context::detail::forced_unwind&) {
          throw;  // a destroyed fiber unwinding its stack: let boost finish it
        } catch (const std::exception& e) {
          std::fprintf(stderr, "cascade: fiber '%s' threw: %s\n", f->name_, e.what());
          std::abort();
        } catch (...) {
          std::fprintf(stderr, "cascade: fiber '%s' threw a non-standard exception\n", f->name_);
          std::abort();
        }
        f->fn_ = nullptr;  // destroy captures on the fiber's own stack, before it is freed
        f->scheduler_->finish(f);
        asan::start_switch(nullptr, f->scheduler_->thread_stack_);  // this stack is dying
        return std::move(f->caller_);
      });
  ++live_;
  ++stats_.spawned;
  FiberHandle handle(f);
  push_ready(f);
  return handle;
}

void Scheduler::finish(Fiber* f) {
  f->state_ = Fiber::State::kDone;
  while (Fiber* j = f->joiners_.pop_front()) wake(j);
  --live_;
}

void Scheduler::push(ReadyQueue& q, Fiber* f) {
  f->state_ = Fiber::State::kReady;
  f->run_next_ = nullptr;
  if (q.tail) q.tail->run_next_ = f; else q.head = f;
  q.tail = f;
  ++q.size;
}

Fiber* Scheduler::pop(ReadyQueue& q) {
  Fiber* f = q.head;
  if (!f) return nullptr;
  q.head = f->run_next_;
  if (!q.head) q.tail = nullptr;
  f->run_next_ = nullptr;
  --q.size;
  return f;
}

void Scheduler::push_ready(Fiber* f) { push(ready_[static_cast<int>(f->priority_)], f); }

Fiber* Scheduler::pop_ready(Priority p) { return pop(ready_[static_cast<int>(p)]); }

void Scheduler::resume(Fiber* f) {
  assert(current_ == nullptr && "resume only from the scheduler context");
  current_ = f;
  f->state_ = Fiber::State::kRunning;
  ++stats_.switches;
  const auto& sc = f->stack_context_;
  asan::start_switch(&asan_fake_stack_,
                     {static_cast<char*>(sc.sp) - sc.size, sc.size});
  f->context_ = std::move(f->context_).resume();
  asan::finish_switch(asan_fake_stack_, nullptr);
  current_ = nullptr;
  if (f->state_ == Fiber::State::kDone) {
    assert(!f->context_);  // the fiber returned; its stack went back to the pool
    f->release();          // the scheduler's reference
  }
}

void Scheduler::switch_out() {
  Fiber* f = current_;
  assert(f && "yield/suspend/sleep must be called from a fiber");
  assert(wake_in_round_ == 0 && "a fiber suspended inside a WakeInRound scope");
  asan::start_switch(&f->asan_fake_stack_, thread_stack_);
  f->caller_ = std::move(f->caller_).resume();
  asan::finish_switch(f->asan_fake_stack_, nullptr);
}

void Scheduler::yield() {
  push_ready(current_);
  switch_out();
}

void Scheduler::yield_to_round_end() {
  if (!in_batch_ || current_->priority_ != Priority::kForeground) {
    yield();
    return;
  }
  push(round_last_, current_);
  switch_out();
}

void Scheduler::maybe_yield() {
  if (current_ == nullptr || round_yielded_ || current_->priority() != Priority::kForeground) {
    return;
  }
  const TimePoint now = Clock::now();
  if (now - round_start_ < options_.foreground_quantum) {
    if (!ready_[1].head) return;
    const auto earned = std::chrono::duration_cast<Duration>((now - last_credit_time_) *
                                                             options_.background_share);
    if (background_credit_ + earned < options_.background_slice) return;
  }
  ++stats_.long_run_yields;
  round_yielded_ = true;
  yield();
}

void Scheduler::suspend() {
  current_->state_ = Fiber::State::kSuspended;
  switch_out();
}

bool Scheduler::wake(Fiber* f) {
  if (f->state_ != Fiber::State::kSuspended) return false;
  if (wake_in_round_ > 0 && in_batch_ && f->priority_ == Priority::kForeground) {
    push(round_end_, f);
  } else {
    push_ready(f);
  }
  return true;
}

void Scheduler::sleep_until(TimePoint when) {
  Fiber* self = current_;
  TimerId id = timers_.add(when, [this, self] { wake(self); });
  suspend();
  timers_.cancel(id);  // no-op if it fired; withdraws it if something else woke us
}

std::size_t Scheduler::run_foreground_batch() {
  // Only the fibers ready at the start of the batch: one that yields goes to the back and
  // runs in the next round, after the owner has polled IO.
  std::size_t n = std::min(ready_[0].size, options_.max_batch);
  in_batch_ = true;
  for (std::size_t i = 0; i < n; ++i) resume(pop_ready(Priority::kForeground));
  // Then those woken into the round, and only when none is left those parked for its
  // end, as many as a batch holds; any more wait in the ready queue for the next round.
  std::size_t extra = 0;
  for (; extra < options_.max_batch; ++extra) {
    Fiber* f = pop(round_end_);
    if (f == nullptr) f = pop(round_last_);
    if (f == nullptr) break;
    resume(f);
  }
  in_batch_ = false;
  // Past the bound they queue behind every fiber already waiting: first come, first served.
  while (Fiber* f = pop(round_end_)) push_ready(f);
  while (Fiber* f = pop(round_last_)) push_ready(f);
  return n + extra;
}

std::size_t Scheduler::run_background(bool foreground_waiting) {
  if (!ready_[1].head) return 0;
  if (!foreground_waiting) {
    std::size_t n = std::min(ready_[1].size, options_.max_batch);
    for (std::size_t i = 0; i < n; ++i) resume(pop_ready(Priority::kBackground));
    stats_.background_runs += n;
    last_credit_time_ = Clock::now();
    return n;
  }
  // Foreground is waiting: background gets its share of the wall time elapsed since the
  // last refill, capped at one slice so idle periods do not bank a long burst.
  TimePoint now = Clock::now();
  auto earned = std::chrono::duration_cast<Duration>((now - last_credit_time_) *
                                                     options_.background_share);
  last_credit_time_ = now;
  background_credit_ = std::min(background_credit_ + earned, options_.background_slice);
  if (background_credit_ <= Duration::zero()) {
    ++stats_.background_deferred;
    return 0;
  }
  std::size_t n = 0;
  while (background_credit_ > Duration::zero() && ready_[1].head) {
    TimePoint start = Clock::now();
    resume(pop_ready(Priority::kBackground));
    Duration used = Clock::now() - start;
    background_credit_ -= used;
    stats_.background_time += used;
    ++n;
  }
  stats_.background_runs += n;
  last_credit_time_ = Clock::now();  // time spent in background earns no further credit
  return n;
}

std::size_t Scheduler::run_round() {
  round_start_ = Clock::now();
  round_yielded_ = false;
  if (timers_.armed() != 0) timers_.fire_due(round_start_);
  std::size_t ran = run_foreground_batch();
  if (ready_[1].head != nullptr && before_background_) before_background_();
  ran += run_background(ready_[0].head != nullptr);
  return ran;
}

bool Scheduler::run() {
  while (live_ != 0) {
    if (run_round() != 0 || has_ready()) continue;
    std::optional<TimePoint> deadline = timers_.next_deadline();
    if (!deadline) return false;  // live fibers, nothing ready, no timer: nothing can wake them
    std::this_thread::sleep_until(*deadline);
  }
  return true;
}

}  // namespace cascade::runtime
