// The bounded lanes a shard receives messages (Tasks) on, and how a sender waits when a lane
// is full. Every shard owns one PeerLane per other shard (an SpscQueue: that shard is the only
// producer) and one ExternalLane (an MpscQueue) for threads outside the runtime.
//
// Nothing is ever dropped: a sender that finds its lane full waits until the receiver frees
// space, and waiting is never spinning.
//
// PeerLane, sender side (a fiber of the sending shard): it parks itself on `blocked_` (a
// WaitQueue of the sending thread), sets `space_wanted_`, and re-checks the ring before it
// suspends. Receiver side, once per loop turn in which it popped something:
// release_space() checks `space_wanted_`; if set, it hands `space_node_` to the sender's
// WakeInbox, and the sending thread then wakes every parked fiber (they retry). The
// receiver never touches the sender's fibers. Two handshakes make this lose nothing:
//   - space: the sender does {space_wanted_ = true; fence(seq_cst); read head} and the
//     receiver {head = h (pop); fence(seq_cst); read space_wanted_}. With the two fences one
//     of them sees the other's write, so either the sender sees the space or the receiver
//     sees the request (Dekker).
//   - the node: `node_queued_` makes sure space_node_ is in the inbox at most once (an
//     intrusive node cannot be linked twice). The sending thread clears it before it wakes
//     the parked fibers, so a request made after that clearing queues the node again.
//
// ExternalLane: external senders are threads, so they block in std::atomic::wait on
// `space_epoch_`, having announced themselves in `waiting_senders_` (the same fence pairing
// as above); the receiver bumps the epoch and notifies when it freed space and someone waits.
// A sender reads the epoch before its last try, so a bump after that read always ends its
// wait.
//
// Thread rules: send*() on the sending side as described; try_receive, empty and
// release_space on the receiving shard's thread only. sent()/received() are monotonic
// counts any thread may read (shutdown compares them to prove the lanes are drained).
#pragma once

#include <atomic>
#include <cstdint>

#include "src/runtime/fiber.h"
#include "src/runtime/mpsc_queue.h"
#include "src/runtime/scheduler.h"
#include "src/runtime/spsc_queue.h"
#include "src/runtime/task.h"
#include "src/runtime/wake_inbox.h"

namespace cascade::runtime {

class PeerLane {
 public:
  PeerLane(std::size_t capacity, WakeInbox& sender_inbox)
      : queue_(capacity), sender_inbox_(sender_inbox) {
    space_node_.run = &on_space;
    space_node_.lane = this;
  }
  PeerLane(const PeerLane&) = delete;
  PeerLane& operator=(const PeerLane&) = delete;

  // Sender, any context. False (task untouched) if the ring is full.
  bool try_send(Task&& task) { return queue_.try_push(std::move(task)); }

  // Sender, from a fiber: pushes, suspending the fiber while the ring is full.
  void send(Task&& task) {
    while (!queue_.try_push(std::move(task))) {
      Scheduler& scheduler = *Scheduler::current();
      Fiber* self = scheduler.current_fiber();
      blocked_.push_back(self);
      space_wanted_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (queue_.producer_sees_space()) {
        blocked_.remove(self);
        continue;
      }
      ++parked_sends_;
      scheduler.suspend();  // until on_space(), run by this thread's inbox
    }
  }

  // Receiver.
  bool try_receive(Task& out) { return queue_.try_pop(out); }
  bool empty() { return queue_.empty(); }

  // Receiver, after a loop turn: if the sender parked fibers on a full ring, have its thread
  // wake them. Cheap (one comparison) when nothing was popped since the last call.
  void release_space() {
    const std::uint64_t popped = queue_.popped();
    if (popped == released_at_) return;
    released_at_ = popped;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!space_wanted_.load(std::memory_order_relaxed)) return;
    if (!space_wanted_.exchange(false, std::memory_order_seq_cst)) return;
    if (!node_queued_.exchange(true, std::memory_order_seq_cst)) sender_inbox_.push(&space_node_);
  }

  std::uint64_t sent() const { return queue_.pushed(); }
  std::uint64_t received() const { return queue_.popped(); }
  // Sender thread: how many times a send found the ring full and suspended.
  std::uint64_t parked_sends() const { return parked_sends_; }

 private:
  struct SpaceNode : WakeNode {
    PeerLane* lane = nullptr;
  };

  // Runs on the sending shard's thread.
  static void on_space(WakeNode* node) {
    PeerLane* lane = static_cast<SpaceNode*>(node)->lane;
    lane->node_queued_.store(false, std::memory_order_seq_cst);
    Scheduler* scheduler = Scheduler::current();
    while (Fiber* f = lane->blocked_.pop_front()) scheduler->wake(f);
  }

  SpscQueue<Task> queue_;
  WakeInbox& sender_inbox_;
  // Sending thread only.
  WaitQueue blocked_;
  std::uint64_t parked_sends_ = 0;
  // Receiving thread only.
  std::uint64_t released_at_ = 0;
  // Shared, rarely written: only when the ring fills up.
  alignas(kFalseSharingRange) std::atomic<bool> space_wanted_{false};
  std::atomic<bool> node_queued_{false};
  SpaceNode space_node_;
};

class ExternalLane {
 public:
  explicit ExternalLane(std::size_t capacity) : queue_(capacity) {}
  ExternalLane(const ExternalLane&) = delete;
  ExternalLane& operator=(const ExternalLane&) = delete;

  // Any thread that is not running a shard: pushes, blocking the thread while full.
  void send(Task&& task) {
    while (!queue_.try_push(std::move(task))) {
      waiting_senders_.fetch_add(1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      const std::uint32_t epoch = space_epoch_.load(std::memory_order_acquire);
      if (!queue_.try_push(std::move(task))) {
        parked_sends_.fetch_add(1, std::memory_order_relaxed);
        space_epoch_.wait(epoch, std::memory_order_acquire);
        waiting_senders_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      waiting_senders_.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
  }

  // Receiver.
  bool try_receive(Task& out) { return queue_.try_pop(out); }
  bool empty() const { return queue_.empty(); }
  void release_space() {
    const std::uint64_t popped = queue_.popped();
    if (popped == released_at_) return;
    released_at_ = popped;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiting_senders_.load(std::memory_order_relaxed) == 0) return;
    space_epoch_.fetch_add(1, std::memory_order_release);
    space_epoch_.notify_all();
  }

  std::uint64_t sent() const { return queue_.claimed(); }
  std::uint64_t received() const { return queue_.popped(); }
  std::uint64_t parked_sends() const { return parked_sends_.load(std::memory_order_relaxed); }

 private:
  MpscQueue<Task> queue_;
  std::uint64_t released_at_ = 0;  // receiving thread only
  alignas(kFalseSharingRange) std::atomic<std::uint32_t> waiting_senders_{0};
  std::atomic<std::uint32_t> space_epoch_{0};
  std::atomic<std::uint64_t> parked_sends_{0};
};

}  // namespace cascade::runtime
