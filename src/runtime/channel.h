// Channel<T>: a bounded FIFO queue of values between the fibers of one shard.
//
// send blocks while the channel is full, receive while it is empty. Capacity 0 is allowed
// and makes a rendezvous channel: every send waits until a receiver takes its value.
//
// Handoff, never a race: a value goes straight from a sender to a waiting receiver's slot,
// and a receiver that frees a slot in a full buffer moves the longest-blocked sender's value
// into it, both before the other fiber runs. So blocked senders and blocked receivers are
// each served in FIFO order, nobody can barge past them (try_send on a full channel and
// try_receive on an empty one fail), and the invariants hold at every step:
//   - receivers wait only while the buffer is empty and no sender waits;
//   - senders wait only while the buffer is full and no receiver waits.
// A blocked sender's value stays on its own stack until taken; nothing allocates per wait.
//
// Timed waits follow condition_variable.h's race rule: a receiver handed a value, or a
// sender whose value was taken, has succeeded even if it runs only after its deadline
// (in the same round), so no value is lost or duplicated; one that timed out was never
// handed anything and the channel is as if it had never waited.
//
// close(): later sends fail (return false, dropping their value); fibers blocked in send
// are woken and return false, their values not sent; fibers blocked in receive are woken
// with std::nullopt (the buffer was empty). Receivers then drain what is buffered and get
// std::nullopt once it is empty. Closing twice is harmless.
//
// Calling rules: send, send_until, receive, receive_until from a fiber of this shard;
// try_send, try_receive and close from anywhere on the shard thread. Destroying a channel
// while fibers are blocked on it asserts (close it and let them finish first).
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "src/runtime/condition_variable.h"

namespace cascade::runtime {

template <typename T>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : ring_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Blocks while full; false (dropping the value) if the channel is or becomes closed.
  bool send(T value) {
    if (closed_) return false;
    if (offer(value)) return true;
    Sender w(&value);
    senders_.park(w);
    return w.taken;
  }
  // Moves from `value` only when it returns true; false if full, closed, or the deadline
  // passed first.
  [[nodiscard]] bool send_until(T&& value, TimePoint deadline) {
    if (closed_) return false;
    if (offer(value)) return true;
    Sender w(&value);
    return senders_.park_until(w, deadline) && w.taken;
  }
  // Moves from `value` only when it returns true; false if full or closed.
  [[nodiscard]] bool try_send(T&& value) { return !closed_ && offer(value); }

  // The next value; blocks while empty; std::nullopt once closed and drained.
  std::optional<T> receive() {
    std::optional<T> out;
    if (take(out) || closed_) return out;
    Receiver w(&out);
    receivers_.park(w);
    return out;  // empty only if close() woke us
  }
  // std::nullopt if the deadline passed first or the channel is closed and drained
  // (is_closed() tells which).
  std::optional<T> receive_until(TimePoint deadline) {
    std::optional<T> out;
    if (take(out) || closed_) return out;
    Receiver w(&out);
    (void)receivers_.park_until(w, deadline);
    return out;  // a value was handed over iff we were notified with one
  }
  std::optional<T> try_receive() {
    std::optional<T> out;
    take(out);
    return out;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    receivers_.notify_all();  // their slots stay empty
    senders_.notify_all();    // `taken` stays false: their values were not sent
  }

  bool is_closed() const { return closed_; }
  std::size_t size() const { return count_; }  // buffered values
  std::size_t capacity() const { return ring_.size(); }
  std::size_t blocked_senders() const { return senders_.size(); }
  std::size_t blocked_receivers() const { return receivers_.size(); }

 private:
  struct Sender : Waiter {
    explicit Sender(T* v) : value(v) {}
    T* value;            // on the sender's stack until taken
    bool taken = false;
  };
  struct Receiver : Waiter {
    explicit Receiver(std::optional<T>* s) : slot(s) {}
    std::optional<T>* slot;  // on the receiver's stack
  };

  // Delivers `value` without blocking (to a waiting receiver, else into the buffer); moves
  // from it only on success.
  bool offer(T& value) {
    if (Receiver* r = receivers_.front_as<Receiver>()) {
      assert(count_ == 0 && senders_.empty());
      r->slot->emplace(std::move(value));
      receivers_.notify(*r);
      return true;
    }
    if (count_ == ring_.size()) return false;
    push(std::move(value));
    return true;
  }

  // Takes the next value without blocking: from the buffer (refilling it from the longest
  // blocked sender) or, on a rendezvous channel, straight from that sender.
  bool take(std::optional<T>& out) {
    Sender* s = senders_.front_as<Sender>();
    if (count_ > 0) {
      out.emplace(pop());
      if (s) {
        assert(count_ + 1 == ring_.size() && "senders wait only on a full buffer");
        push(std::move(*s->value));
        accept(*s);
      }
      return true;
    }
    if (s == nullptr) return false;
    out.emplace(std::move(*s->value));
    accept(*s);
    return true;
  }

  void accept(Sender& s) {
    s.taken = true;
    senders_.notify(s);
  }

  void push(T&& value) {
    std::size_t tail = head_ + count_;
    if (tail >= ring_.size()) tail -= ring_.size();
    ring_[tail].emplace(std::move(value));
    ++count_;
  }

  T pop() {
    T value = std::move(*ring_[head_]);
    ring_[head_].reset();
    if (++head_ == ring_.size()) head_ = 0;
    --count_;
    return value;
  }

  std::vector<std::optional<T>> ring_;  // capacity slots, allocated once
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  bool closed_ = false;
  WaiterList senders_;
  WaiterList receivers_;
};

}  // namespace cascade::runtime
