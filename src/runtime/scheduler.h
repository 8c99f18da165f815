// The fiber scheduler of one shard thread.
//
// Fibers run one at a time on the thread that owns the scheduler, switched cooperatively:
// a fiber runs until it yields, suspends (IO, a lock, a timer) or finishes. Nothing in a
// shard needs a lock because nothing else touches it.
//
// Priorities. Foreground fibers (clients) always run when ready. Background fibers (flush,
// compaction, GC) run freely when no foreground fiber is ready; while foreground work is
// waiting they get at most `background_share` of the thread's time, measured per slice and
// accrued as credit that is capped at one slice, so a background fiber that just ran long
// cannot starve clients afterwards. Background fibers must yield at least once per block
// they process; the share may be changed at run time (the engine grows it with its
// compaction debt). A foreground fiber that may run long without suspending calls
// maybe_yield() at its natural boundaries.
//
// Driving. The owner calls run_round() in its loop: it fires due timers and runs a batch of
// ready fibers (up to max_batch, then as many again of those woken into the round or
// parked for its end: WakeInRound, yield_to_round_end), then background fibers within
// their share, and returns so the owner can reap IO completions and cross-shard messages.
// Between the foreground batch and the background fibers it calls the owner's
// before_background hook (the shard submits the round's queued sends there, so replies do
// not wait for them).
// When nothing is ready the owner sleeps until next_deadline() or an external wake-up (the
// shard does this in io_uring). run() is a self-contained loop for code without a reactor.
//
// Calling rules: spawn, wake and the timer calls may be made from a fiber or from the
// scheduler's own context (the loop, a timer callback); yield, suspend and sleep only from a
// fiber of this scheduler. Never from another thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>

#include "src/runtime/fiber.h"
#include "src/runtime/stack_pool.h"
#include "src/runtime/timer_queue.h"

namespace cascade::runtime {

struct SchedulerOptions {
  StackPoolOptions stacks;
  double background_share = 0.10;                       // of CPU while foreground waits
  Duration background_slice = std::chrono::microseconds(500);
  Duration foreground_quantum = std::chrono::microseconds(500);  // see maybe_yield()
  // Foreground fibers run per round before the owner polls IO, and as many again of those
  // parked for the round's end.
  std::size_t max_batch = 256;
};

struct SchedulerStats {
  std::uint64_t spawned = 0;
  std::uint64_t switches = 0;
  std::uint64_t background_runs = 0;
  std::uint64_t background_deferred = 0;  // rounds a ready background fiber was held back
  Duration background_time{0};            // measured only while foreground was waiting
  std::uint64_t long_run_yields = 0;      // yields made by maybe_yield()
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();  // every fiber must have finished
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The scheduler of the calling thread, or nullptr.
  static Scheduler* current();

  FiberHandle spawn(std::function<void()> fn, SpawnOptions options = {});

  // Runs fn to completion on a large pooled stack and returns its result, suspending the
  // calling fiber meanwhile: for calls that need depth (compression, sorting a big reply)
  // made from a fiber on a small stack. The large stacks are the shard's own, reused.
  template <typename F>
  auto run_deep(F&& fn) -> decltype(fn());

  // The running fiber, or nullptr in the scheduler's own context.
  Fiber* current_fiber() const { return current_; }
  bool in_fiber() const { return current_ != nullptr; }

  // Puts the running fiber at the back of its ready queue and runs others.
  void yield();
  // Puts the running foreground fiber behind every other fiber of the current round,
  // those woken into the round after it parked (WakeInRound) included, still in this
  // round: it runs before the owner next polls IO, where yield() would put it in the next
  // round, after the poll. Outside a round's foreground batch, or from a background fiber,
  // it is yield(). For a group commit's leader: the fibers ready in this round append
  // first (a hot key's next holders, woken one by another, among them), and the write
  // follows at once.
  void yield_to_round_end();
  // While one of these lives, wake() makes a foreground fiber run later in the current
  // round (before those yield_to_round_end() parked) instead of in the next one: for a
  // fiber whose action releases others that should act before the poll. A group commit's
  // write wakes the fibers whose records it held, which then send their replies in the
  // same round, so one io_uring_enter carries the whole group's replies. Outside a round's
  // foreground batch it changes nothing.
  class WakeInRound {
   public:
    WakeInRound() : scheduler_(current()) {
      if (scheduler_ != nullptr) ++scheduler_->wake_in_round_;
    }
    ~WakeInRound() {
      if (scheduler_ != nullptr) --scheduler_->wake_in_round_;
    }
    WakeInRound(const WakeInRound&) = delete;
    WakeInRound& operator=(const WakeInRound&) = delete;

   private:
    Scheduler* scheduler_;
  };
  // For a foreground fiber that may run long without suspending (a writer whose writes
  // never wait for IO), called at its natural boundaries: yields if the current round has
  // lasted `foreground_quantum`, or a ready background fiber is owed a whole slice (its
  // saved credit plus its share of the time since the credit was last refilled). Without
  // it such a fiber holds the thread until it happens to suspend: the owner polls no IO
  // meanwhile, so a background fiber waiting for a read stays parked however much share
  // it is owed. At most one such yield per round: the round then ends with the batch it
  // started and the fibers parked for its end (background work and the IO poll follow),
  // and the other fibers of that batch gain nothing by yielding too. Costs a clock read.
  void maybe_yield();
  // Parks the running fiber until wake(). See fiber.h for who may wake it.
  void suspend();
  // Makes a suspended fiber ready; false (and nothing happens) if it was not suspended.
  bool wake(Fiber* f);

  void sleep_until(TimePoint when);
  void sleep_for(Duration d) { sleep_until(Clock::now() + d); }

  TimerId add_timer(TimePoint when, TimerQueue::Callback callback) {
    return timers_.add(when, std::move(callback));
  }
  bool cancel_timer(TimerId id) { return timers_.cancel(id); }
  std::optional<TimePoint> next_deadline() { return timers_.next_deadline(); }

  // One round: fire due timers, run ready fibers (foreground first, background within its
  // budget). Returns the number of fibers resumed.
  std::size_t run_round();
  bool has_ready() const { return ready_[0].head || ready_[1].head; }
  // Runs until every fiber has finished, sleeping on the thread between timers. Returns
  // false if live fibers remain that nothing can wake (a deadlock, for tests to detect).
  bool run();

  std::size_t live_fibers() const { return live_; }
  // Called by run_round() after the foreground batch when background fibers are ready.
  void set_before_background(std::function<void()> hook) { before_background_ = std::move(hook); }
  double background_share() const { return options_.background_share; }
  void set_background_share(double share);
  const SchedulerStats& stats() const { return stats_; }
  StackPool& stacks() { return stacks_; }

 private:
  struct ReadyQueue {
    Fiber* head = nullptr;
    Fiber* tail = nullptr;
    std::size_t size = 0;
  };

  void push_ready(Fiber* f);
  Fiber* pop_ready(Priority p);
  static void push(ReadyQueue& q, Fiber* f);
  static Fiber* pop(ReadyQueue& q);
  void resume(Fiber* f);
  void switch_out();  // from the running fiber back to the scheduler context
  void finish(Fiber* f);
  std::size_t run_foreground_batch();
  std::size_t run_background(bool foreground_waiting);

  SchedulerOptions options_;
  StackPool stacks_;
  TimerQueue timers_;
  ReadyQueue ready_[2];
  // Foreground fibers to run at the end of the current batch, empty outside
  // run_foreground_batch: those woken under WakeInRound, then, once none is left, those
  // parked by yield_to_round_end (round_last_).
  ReadyQueue round_end_;
  ReadyQueue round_last_;
  bool in_batch_ = false;
  int wake_in_round_ = 0;  // live WakeInRound scopes (none may span a suspension)
  std::function<void()> before_background_;
  Fiber* current_ = nullptr;
  asan::StackBounds thread_stack_;  // learnt at the first switch into a fiber
  void* asan_fake_stack_ = nullptr;
  std::size_t live_ = 0;
  std::uint64_t next_id_ = 1;
  Duration background_credit_{0};
  TimePoint last_credit_time_;
  TimePoint round_start_;
  bool round_yielded_ = false;  // maybe_yield already yielded this round
  SchedulerStats stats_;
};

template <typename F>
auto Scheduler::run_deep(F&& fn) -> decltype(fn()) {
  using R = decltype(fn());
  SpawnOptions options{.priority = current_ ? current_->priority() : Priority::kForeground,
                       .stack = StackSize::kLarge,
                       .name = "deep-call"};
  if constexpr (std::is_void_v<R>) {
    spawn([&fn] { fn(); }, options).join();
  } else {
    std::optional<R> result;
    spawn([&fn, &result] { result.emplace(fn()); }, options).join();
    return std::move(*result);
  }
}

// Shorthands for the running fiber's scheduler.
namespace this_fiber {
inline void yield() { Scheduler::current()->yield(); }
inline void yield_to_round_end() { Scheduler::current()->yield_to_round_end(); }
// yield() where there is a fiber to yield from; off a fiber (a tool, a plain thread)
// nothing. For long copies and compressions done in pieces.
inline void yield_if_on_fiber() {
  if (Scheduler* s = Scheduler::current(); s != nullptr && s->in_fiber()) s->yield();
}
// Scheduler::maybe_yield; nothing off a fiber.
inline void maybe_yield() {
  if (Scheduler* s = Scheduler::current(); s != nullptr && s->in_fiber()) s->maybe_yield();
}
inline void sleep_for(Duration d) { Scheduler::current()->sleep_for(d); }
inline void sleep_until(TimePoint t) { Scheduler::current()->sleep_until(t); }
inline Fiber* self() { return Scheduler::current()->current_fiber(); }
}  // namespace this_fiber

}  // namespace cascade::runtime
