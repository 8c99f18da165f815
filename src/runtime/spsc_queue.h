// SpscQueue<T>: a bounded, lock-free ring for exactly one producer thread and exactly one
// consumer thread. The runtime keeps one per ordered pair of shards (shard i -> shard j).
//
// Layout. `tail_` (next slot to write) is written only by the producer and `head_` (next
// slot to read) only by the consumer; each sits on its own 128-byte block (two cache lines,
// because adjacent-line prefetchers pull pairs) together with that side's cached copy of the
// other side's index. The indices are 64-bit and only ever grow, so they never wrap in
// practice: slot = index & mask, the queue is full when tail - head == capacity, and
// pushed()/popped() are exact monotonic counts (shutdown uses them to prove quiescence).
//
// Memory ordering.
//   push: write the slot, then tail_.store(release). The consumer's tail_.load(acquire)
//         that sees the new tail therefore sees the slot's bytes.
//   pop:  move the value out and destroy the slot, then head_.store(release). The
//         producer's head_.load(acquire) that sees it therefore knows the consumer is done
//         with the slot before the producer writes it again.
// Each side reads the other's index only when its cached copy says "full" (producer) or
// "empty" (consumer), so in steady state a push or pop touches no line the other side
// writes except the slot itself.
//
// Thread rules: try_push, producer_sees_space and pushed() by the producer; try_pop, empty,
// popped() by the consumer; pushed()/popped() may be read by anyone as a (possibly stale)
// acquire load. Nothing here blocks or sleeps: waiting for space or data is the caller's
// business (the shard parks a fiber; see shard.h).
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace cascade::runtime {

// Distance that keeps two hot atomics from sharing a line or an adjacent-line prefetch pair.
inline constexpr std::size_t kFalseSharingRange = 128;

// Rounds n up to a power of two, at least 2.
inline std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 2;
  while (p < n) p <<= 1;
  return p;
}

template <typename T>
class SpscQueue {
 public:
  explicit SpscQueue(std::size_t capacity)
      : capacity_(round_up_pow2(capacity)), mask_(capacity_ - 1),
        slots_(std::make_unique<Slot[]>(capacity_)) {}

  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Destroys whatever was pushed and never popped; both sides must have stopped.
  ~SpscQueue() {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    for (std::uint64_t i = head_.load(std::memory_order_relaxed); i != tail; ++i) {
      std::launder(reinterpret_cast<T*>(slots_[i & mask_].bytes))->~T();
    }
  }

  std::size_t capacity() const { return capacity_; }

  // Producer. Moves `value` in and returns true, or returns false (value untouched) if full.
  bool try_push(T&& value) {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - producer_.cached_head == capacity_) {
      producer_.cached_head = head_.load(std::memory_order_acquire);
      if (tail - producer_.cached_head == capacity_) return false;
    }
    ::new (slots_[tail & mask_].bytes) T(std::move(value));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Producer. Re-reads the consumer's index: true if a push would succeed now. Used after
  // publishing "I am waiting for space", so it must not trust the cached head.
  bool producer_sees_space() {
    producer_.cached_head = head_.load(std::memory_order_acquire);
    return tail_.load(std::memory_order_relaxed) - producer_.cached_head < capacity_;
  }

  // Consumer. Moves the oldest value into `out` and returns true, or returns false if empty.
  bool try_pop(T& out) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == consumer_.cached_tail) {
      consumer_.cached_tail = tail_.load(std::memory_order_acquire);
      if (head == consumer_.cached_tail) return false;
    }
    T* slot = std::launder(reinterpret_cast<T*>(slots_[head & mask_].bytes));
    out = std::move(*slot);
    slot->~T();
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer. True if nothing is visible to pop right now.
  bool empty() {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head != consumer_.cached_tail) return false;
    consumer_.cached_tail = tail_.load(std::memory_order_acquire);
    return head == consumer_.cached_tail;
  }

  std::uint64_t pushed() const { return tail_.load(std::memory_order_acquire); }
  std::uint64_t popped() const { return head_.load(std::memory_order_acquire); }

 private:
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
  };
  struct ProducerLocal {
    std::uint64_t cached_head = 0;
  };
  struct ConsumerLocal {
    std::uint64_t cached_tail = 0;
  };

  // Read-only after construction; shared by both sides.
  const std::size_t capacity_;
  const std::size_t mask_;
  const std::unique_ptr<Slot[]> slots_;

  alignas(kFalseSharingRange) std::atomic<std::uint64_t> tail_{0};
  ProducerLocal producer_;
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> head_{0};
  ConsumerLocal consumer_;
  // The class is aligned to kFalseSharingRange, so nothing else shares head_'s block.
};

}  // namespace cascade::runtime
