// WakeInbox: how another thread asks a shard to run a small, non-suspending action on the
// shard's own thread, almost always "wake this fiber". Fibers are only ever woken by the
// thread that runs them; a thread that fulfils a Promise awaited on another shard, or that
// frees space in a queue a fiber of another shard is blocked on, pushes a WakeNode here.
//
// Why not the bounded message queues: a wake-up must never wait for space. If replies had to
// queue behind requests, two shards whose queues to each other are both full could each be
// unable to deliver the reply the other needs. A WakeNode is intrusive (it lives in the
// object being completed: a future's shared state, a queue's parking record), so pushing one
// cannot fail and allocates nothing; the inbox holds at most one node per pending future or
// parked channel.
//
// Structure: a lock-free LIFO list. push() is a compare-exchange loop on the head (release,
// so the node's fields and everything its pusher wrote before are visible to the owner);
// run_all() takes the whole list with one exchange (acquire), reverses it into push order and
// runs each node. Taking the whole list, never popping single nodes, is what keeps the
// list free of the ABA problem. A node must not be pushed again until it has been run.
//
// Waking the owner: a push onto an empty list calls the notifier (the shard's
// Reactor::notify). A push onto a non-empty list needs no call: the node that made the list
// non-empty already notified, and the list stays non-empty, so the owner's pending-work
// check sees it, until the owner takes it.
//
// Thread rules: push() from any thread; run_all() and set_current() from the owner only.
#pragma once

#include <atomic>
#include <cstddef>

namespace cascade::runtime {

struct WakeNode {
  // Runs on the owner's thread, in the scheduler context: must not suspend, and must not
  // touch the node after it made the node's owner runnable (the owner may free it).
  void (*run)(WakeNode* node) = nullptr;
  WakeNode* next = nullptr;
};

class WakeInbox {
 public:
  using Notifier = void (*)(void* context);

  WakeInbox(Notifier notifier, void* context) : notifier_(notifier), context_(context) {}
  WakeInbox(const WakeInbox&) = delete;
  WakeInbox& operator=(const WakeInbox&) = delete;

  // The inbox of the shard running on the calling thread, or nullptr.
  static WakeInbox* current() { return tls_current_; }
  static void set_current(WakeInbox* inbox) { tls_current_ = inbox; }

  // Any thread.
  void push(WakeNode* node) {
    WakeNode* head = head_.load(std::memory_order_relaxed);
    do {
      node->next = head;
    } while (!head_.compare_exchange_weak(head, node, std::memory_order_release,
                                          std::memory_order_relaxed));
    if (head == nullptr) notifier_(context_);
  }

  // Owner. True if something has been pushed and not yet run.
  bool pending() const { return head_.load(std::memory_order_acquire) != nullptr; }

  // Owner. Runs every node pushed so far, oldest first; returns how many ran.
  std::size_t run_all() {
    WakeNode* list = head_.exchange(nullptr, std::memory_order_acquire);
    if (list == nullptr) return 0;
    WakeNode* oldest_first = nullptr;
    while (list != nullptr) {
      WakeNode* next = list->next;
      list->next = oldest_first;
      oldest_first = list;
      list = next;
    }
    std::size_t ran = 0;
    while (oldest_first != nullptr) {
      WakeNode* node = oldest_first;
      oldest_first = node->next;  // read before run(): the node may be freed once it runs
      node->run(node);
      ++ran;
    }
    return ran;
  }

 private:
  static inline thread_local WakeInbox* tls_current_ = nullptr;

  std::atomic<WakeNode*> head_{nullptr};
  Notifier notifier_;
  void* context_;
};

}  // namespace cascade::runtime
