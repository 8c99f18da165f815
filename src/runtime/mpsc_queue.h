// MpscQueue<T>: a bounded queue for any number of producer threads and one consumer thread.
// Each shard has one, through which threads outside the runtime (tests, a tool's main)
// hand it work; shard-to-shard traffic uses SpscQueue instead, which needs no atomic
// read-modify-write per message.
//
// Design: a ring of cells, each carrying a sequence number that says whose turn the cell is.
// Cell i starts with seq = i. For position p (a 64-bit counter that only grows), the cell
// c = p & mask is
//   free for the producer of lap p   when c.seq == p,
//   full, for the consumer at p      when c.seq == p + 1,
//   still holding lap p - capacity   when c.seq <  p   (the queue is full).
// A producer claims p by compare-exchanging enqueue_pos_ from p to p + 1, constructs the
// value, then publishes with c.seq.store(p + 1, release). The consumer, seeing
// c.seq == p + 1 with an acquire load, moves the value out, destroys it and hands the cell to
// the next lap with c.seq.store(p + capacity, release); the producer of that lap reads seq
// with acquire before it constructs, so the consumer's use of the cell happens-before the
// reuse. The claim itself is relaxed: it only arbitrates among producers, and all data is
// published through the cell's seq.
//
// Progress: producers are lock-free among themselves (a failed compare-exchange means
// another producer advanced). The consumer is not: a producer preempted between its claim
// and its publish makes the consumer see "empty" at that cell, and cells published after it
// wait until it finishes. That is acceptable for external submitters, which always notify
// the shard after publishing, so the message is seen once it is complete.
//
// Thread rules: try_push from any thread; try_pop and empty from the consumer only.
// Nothing here blocks; waiting for space is the caller's business (see shard.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "src/runtime/spsc_queue.h"  // kFalseSharingRange, round_up_pow2

namespace cascade::runtime {

template <typename T>
class MpscQueue {
 public:
  explicit MpscQueue(std::size_t capacity)
      : capacity_(round_up_pow2(capacity)), mask_(capacity_ - 1),
        cells_(std::make_unique<Cell[]>(capacity_)) {
    for (std::size_t i = 0; i < capacity_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Destroys whatever was published and never popped; every producer must have finished.
  ~MpscQueue() {
    for (std::uint64_t p = dequeue_pos_.load(std::memory_order_relaxed);; ++p) {
      Cell& c = cells_[p & mask_];
      if (c.seq.load(std::memory_order_acquire) != p + 1) break;
      c.value()->~T();
    }
  }

  std::size_t capacity() const { return capacity_; }

  // Any thread. Moves `value` in and returns true, or returns false (value untouched) if full.
  bool try_push(T&& value) {
    std::uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const std::uint64_t seq = c.seq.load(std::memory_order_acquire);
      const auto lag = static_cast<std::int64_t>(seq - pos);
      if (lag == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          ::new (c.bytes) T(std::move(value));
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
        // pos now holds the position another producer advanced to; try that one.
      } else if (lag < 0) {
        return false;  // the cell still holds the previous lap's value: full
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);  // we were behind; catch up
      }
    }
  }

  // Consumer. Moves the oldest published value into `out` and returns true, or false.
  bool try_pop(T& out) {
    const std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    Cell& c = cells_[pos & mask_];
    if (c.seq.load(std::memory_order_acquire) != pos + 1) return false;
    T* v = c.value();
    out = std::move(*v);
    v->~T();
    c.seq.store(pos + capacity_, std::memory_order_release);
    dequeue_pos_.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Consumer. True if the next cell holds nothing published.
  bool empty() const {
    const std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    return cells_[pos & mask_].seq.load(std::memory_order_acquire) != pos + 1;
  }

  // Monotonic counts: positions claimed by producers, values popped by the consumer.
  std::uint64_t claimed() const { return enqueue_pos_.load(std::memory_order_acquire); }
  std::uint64_t popped() const { return dequeue_pos_.load(std::memory_order_acquire); }

 private:
  struct Cell {
    std::atomic<std::uint64_t> seq{0};
    alignas(T) unsigned char bytes[sizeof(T)];
    T* value() { return std::launder(reinterpret_cast<T*>(bytes)); }
  };

  const std::size_t capacity_;
  const std::size_t mask_;
  const std::unique_ptr<Cell[]> cells_;
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> enqueue_pos_{0};
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> dequeue_pos_{0};
};

}  // namespace cascade::runtime
