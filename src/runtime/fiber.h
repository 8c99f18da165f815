// A fiber: a function running on its own pooled stack, switched by its shard's Scheduler.
//
// Fiber is the control block; it is reference counted (the scheduler holds one reference
// until the fiber finishes, each FiberHandle one more) so a handle can ask done() or join()
// after the stack is gone. A fiber belongs to the scheduler that spawned it for its whole
// life; it never migrates between threads.
//
// A suspended fiber waits for exactly one thing at a time. Whatever parks it (an IO
// completion, a timer, a WaitQueue) is the only party that may wake it, and a waker that
// lost a race (a timeout against an event) must withdraw itself before the fiber runs on.
// The intrusive links below (run queue, wait queue) exist because of that rule: a fiber is
// in at most one run queue and at most one wait queue, so no allocation is needed to park.
#pragma once

#include <boost/context/fiber.hpp>

#include <cstdint>
#include <functional>

#include "src/runtime/asan_fiber.h"
#include "src/runtime/stack_pool.h"

namespace cascade::runtime {

class Fiber;
class Scheduler;

enum class Priority : std::uint8_t {
  kForeground = 0,  // client work
  kBackground = 1,  // flush, compaction, GC, active expiry: runs within a CPU budget
};

struct SpawnOptions {
  Priority priority = Priority::kForeground;
  StackSize stack = StackSize::kSmall;
  const char* name = "fiber";  // static string, for logs and debugging
};

// An intrusive FIFO of suspended fibers, the building block of every fiber-aware primitive.
// remove() is O(1) so a timed wait can withdraw when its timer wins the race.
class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  ~WaitQueue();

  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }
  void push_back(Fiber* f);
  Fiber* pop_front();               // nullptr if empty
  bool remove(Fiber* f);            // false if f is not in this queue
  bool contains(const Fiber* f) const;

 private:
  Fiber* head_ = nullptr;
  Fiber* tail_ = nullptr;
  std::size_t size_ = 0;
};

class Fiber {
 public:
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  std::uint64_t id() const { return id_; }
  const char* name() const { return name_; }
  Priority priority() const { return priority_; }
  bool done() const { return state_ == State::kDone; }
  Scheduler& scheduler() const { return *scheduler_; }

 private:
  friend class Scheduler;
  friend class FiberHandle;
  friend class WaitQueue;

  enum class State : std::uint8_t { kReady, kRunning, kSuspended, kDone };

  Fiber(Scheduler* scheduler, std::function<void()> fn, std::uint64_t id, SpawnOptions options)
      : scheduler_(scheduler), fn_(std::move(fn)), id_(id), name_(options.name),
        priority_(options.priority), stack_(options.stack) {}

  void add_ref() { ++refs_; }
  void release() {
    if (--refs_ == 0) delete this;
  }

  boost::context::fiber context_;  // this fiber's continuation while it is not running
  boost::context::fiber caller_;   // the scheduler's continuation while this fiber runs
  Scheduler* scheduler_;
  std::function<void()> fn_;
  std::uint64_t id_;
  const char* name_;
  Priority priority_;
  StackSize stack_;
  State state_ = State::kReady;
  boost::context::stack_context stack_context_{};  // bounds, for sanitizer annotations
  void* asan_fake_stack_ = nullptr;
  std::uint32_t refs_ = 1;

  Fiber* run_next_ = nullptr;   // ready-queue link
  Fiber* wait_prev_ = nullptr;  // wait-queue links
  Fiber* wait_next_ = nullptr;
  WaitQueue* waiting_on_ = nullptr;
  WaitQueue joiners_;           // fibers blocked in join() until this one finishes
};

// A counted reference to a fiber: join it or ask whether it finished.
class FiberHandle {
 public:
  FiberHandle() = default;
  explicit FiberHandle(Fiber* f) : fiber_(f) { if (f) f->add_ref(); }
  FiberHandle(const FiberHandle& o) : FiberHandle(o.fiber_) {}
  FiberHandle(FiberHandle&& o) noexcept : fiber_(o.fiber_) { o.fiber_ = nullptr; }
  FiberHandle& operator=(FiberHandle o) noexcept { std::swap(fiber_, o.fiber_); return *this; }
  ~FiberHandle() { if (fiber_) fiber_->release(); }

  bool valid() const { return fiber_ != nullptr; }
  bool done() const { return fiber_->done(); }
  std::uint64_t id() const { return fiber_->id(); }
  // Suspends the calling fiber until this one finishes; returns at once if it has.
  // Must be called from a fiber of the same scheduler.
  void join();

 private:
  Fiber* fiber_ = nullptr;
};

}  // namespace cascade::runtime
