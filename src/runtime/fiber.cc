#include "src/runtime/fiber.h"

#include <cassert>

#include "src/runtime/scheduler.h"

namespace cascade::runtime {

WaitQueue::~WaitQueue() { assert(empty() && "a WaitQueue died with fibers parked on it"); }

bool WaitQueue::contains(const Fiber* f) const { return f->waiting_on_ == this; }

void WaitQueue::push_back(Fiber* f) {
  assert(f->waiting_on_ == nullptr);
  f->waiting_on_ = this;
  f->wait_prev_ = tail_;
  f->wait_next_ = nullptr;
  if (tail_) tail_->wait_next_ = f; else head_ = f;
  tail_ = f;
  ++size_;
}

Fiber* WaitQueue::pop_front() {
  Fiber* f = head_;
  if (f) remove(f);
  return f;
}

bool WaitQueue::remove(Fiber* f) {
  if (f->waiting_on_ != this) return false;
  if (f->wait_prev_) f->wait_prev_->wait_next_ = f->wait_next_; else head_ = f->wait_next_;
  if (f->wait_next_) f->wait_next_->wait_prev_ = f->wait_prev_; else tail_ = f->wait_prev_;
  f->wait_prev_ = f->wait_next_ = nullptr;
  f->waiting_on_ = nullptr;
  --size_;
  return true;
}

void FiberHandle::join() {
  assert(fiber_ != nullptr);
  if (fiber_->done()) return;
  Scheduler* s = Scheduler::current();
  assert(s && s->in_fiber() && &fiber_->scheduler() == s && "join from a fiber of the same shard");
  Fiber* self = s->current_fiber();
  assert(self != fiber_ && "a fiber cannot join itself");
  fiber_->joiners_.push_back(self);
  s->suspend();
}

}  // namespace cascade::runtime
