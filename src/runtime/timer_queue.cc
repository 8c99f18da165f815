#include "src/runtime/timer_queue.h"

#include <algorithm>

namespace cascade::runtime {

TimerId TimerQueue::add(TimePoint when, Callback callback) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.armed = true;
  ++armed_;
  heap_.push_back(Entry{when, next_seq_++, slot, s.generation});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return TimerId{slot, s.generation};
}

bool TimerQueue::cancel(TimerId id) {
  if (!id.valid() || id.slot >= slots_.size()) return false;
  Slot& s = slots_[id.slot];
  if (!s.armed || s.generation != id.generation) return false;
  s.armed = false;
  s.callback = nullptr;
  ++s.generation;  // the heap entry is now dead; its slot is reusable at once
  free_slots_.push_back(id.slot);
  --armed_;
  compact_if_mostly_dead();
  return true;
}

void TimerQueue::compact_if_mostly_dead() {
  std::size_t dead = heap_.size() - armed_;
  if (dead <= 64 || dead <= armed_) return;
  std::erase_if(heap_, [this](const Entry& e) { return !live(e); });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

void TimerQueue::drop_dead_top() {
  while (!heap_.empty() && !live(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

std::optional<TimePoint> TimerQueue::next_deadline() {
  drop_dead_top();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().when;
}

std::size_t TimerQueue::fire_due(TimePoint now) {
  std::size_t fired = 0;
  for (;;) {
    drop_dead_top();
    if (heap_.empty() || heap_.front().when > now) break;
    Entry e = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    Slot& s = slots_[e.slot];
    Callback cb = std::move(s.callback);
    s.callback = nullptr;
    s.armed = false;
    ++s.generation;
    free_slots_.push_back(e.slot);
    --armed_;
    cb();  // may add or cancel timers: the heap is consistent here
    ++fired;
  }
  return fired;
}

}  // namespace cascade::runtime
