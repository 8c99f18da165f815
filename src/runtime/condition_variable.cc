#include "src/runtime/condition_variable.h"

#include "src/runtime/scheduler.h"

namespace cascade::runtime {
namespace {
Scheduler& waiting_scheduler() {
  Scheduler* s = Scheduler::current();
  assert(s != nullptr && s->in_fiber() && "only a fiber can wait");
  return *s;
}
}  // namespace

void WaiterList::link(Waiter& w) {
  assert(w.state == Waiter::State::kIdle && w.list == nullptr && "a wait record is used once");
  w.state = Waiter::State::kWaiting;
  w.list = this;
  w.prev = tail_;
  w.next = nullptr;
  if (tail_) tail_->next = &w; else head_ = &w;
  tail_ = &w;
  ++size_;
}

void WaiterList::unlink(Waiter& w) {
  assert(w.list == this);
  if (w.prev) w.prev->next = w.next; else head_ = w.next;
  if (w.next) w.next->prev = w.prev; else tail_ = w.prev;
  w.prev = w.next = nullptr;
  w.list = nullptr;
  --size_;
}

void WaiterList::park(Waiter& w) {
  Scheduler& s = waiting_scheduler();
  w.fiber = s.current_fiber();
  link(w);
  s.suspend();
  assert(w.notified() && "a parked fiber was woken by someone other than its list");
}

bool WaiterList::park_until(Waiter& w, TimePoint deadline) {
  if (deadline <= Clock::now()) return false;
  Scheduler& s = waiting_scheduler();
  w.fiber = s.current_fiber();
  link(w);
  // The capture is one pointer, so std::function stores it inline: no allocation.
  TimerId timer = s.add_timer(deadline, [record = &w] { expire(record); });
  s.suspend();
  s.cancel_timer(timer);  // a no-op if it fired; otherwise it must not outlive `w`
  assert(w.state != Waiter::State::kWaiting && w.list == nullptr &&
         "a parked fiber was woken by someone other than its list or its deadline");
  return w.notified();
}

void WaiterList::notify(Waiter& w) {
  unlink(w);
  w.state = Waiter::State::kNotified;
  [[maybe_unused]] bool woke = w.fiber->scheduler().wake(w.fiber);
  assert(woke && "a linked waiter must be suspended");
}

std::size_t WaiterList::notify_all() {
  std::size_t n = 0;
  for (; head_ != nullptr; ++n) notify(*head_);
  return n;
}

void WaiterList::expire(Waiter* w) {
  if (w->state != Waiter::State::kWaiting) return;  // notified earlier in this round: it won
  w->list->unlink(*w);
  w->state = Waiter::State::kTimedOut;
  [[maybe_unused]] bool woke = w->fiber->scheduler().wake(w->fiber);
  assert(woke && "a linked waiter must be suspended");
}

}  // namespace cascade::runtime
