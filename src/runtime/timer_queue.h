// Deadlines of one shard: a min-heap of (deadline, sequence) over a slab of timer slots.
//
// A TimerId names a slot and the generation it was armed with, so cancelling a timer that
// has already fired (or whose slot was reused) is a harmless no-op. Cancelled timers stay
// in the heap until they reach its top (lazy deletion): cancel is O(1), fire is O(log n).
// So that long timeouts which are nearly always cancelled early (a recv timeout, a lock
// wait) cannot grow the heap without bound, it is rebuilt without its dead entries once
// they outnumber the live ones: amortised O(1) per cancel, heap size <= 2 x armed + 64.
// Callbacks run on the shard's scheduler context and must not suspend.
//
// Concurrency: owned by one shard thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace cascade::runtime {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

struct TimerId {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

class TimerQueue {
 public:
  using Callback = std::function<void()>;

  TimerId add(TimePoint when, Callback callback);
  // Returns true if the timer was still armed (it will now never fire).
  bool cancel(TimerId id);
  // Runs every callback whose deadline is <= now, in deadline order; returns how many ran.
  std::size_t fire_due(TimePoint now);
  // The earliest armed deadline, if any.
  std::optional<TimePoint> next_deadline();
  std::size_t armed() const { return armed_; }
  std::size_t heap_size() const { return heap_.size(); }  // live and not yet dropped dead

 private:
  struct Slot {
    Callback callback;
    std::uint32_t generation = 0;
    bool armed = false;
  };
  struct Entry {
    TimePoint when;
    std::uint64_t seq;  // FIFO among equal deadlines
    std::uint32_t slot;
    std::uint32_t generation;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };

  void drop_dead_top();
  void compact_if_mostly_dead();
  bool live(const Entry& e) const {
    return slots_[e.slot].armed && slots_[e.slot].generation == e.generation;
  }

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 0;
  std::size_t armed_ = 0;
};

}  // namespace cascade::runtime
