// A shard: one thread that owns one Scheduler, one Reactor, the lanes other shards and
// outside threads send it messages on, and (above the runtime) its slice of the data.
// Nothing inside a shard is touched by another thread except through the lanes, the
// WakeInbox and Reactor::notify().
//
// The loop, one turn:
//   1. scheduler.run_round()       timers and ready fibers (message workers among them)
//   2. inbox.run_all()             wake-ups other threads handed us (futures, lane space)
//   3. release_space()             tell senders parked on our full lanes that space is free
//   4. ensure_drainer()            messages waiting and no worker draining: wake or spawn one
//   5. publish_activity()          idle/busy word that shutdown reads (see runtime.h)
//   6. nothing ready: spin up to `idle_spin` after the last work, watching for new work
//   7. reactor.poll(wait = nothing ready, deadline = next timer)
// poll(wait) sleeps in the kernel; a sender publishes its message and then calls
// Reactor::notify(), whose handshake with the reactor's pending-work check (our
// has_pending_work()) means the wake-up is never lost. An idle shard uses no CPU.
// Timer callbacks (Scheduler::add_timer) are not work the shard waits for at shutdown: code
// that must finish runs in fibers.
//
// Messages run on reused worker fibers, not a fiber each: a worker pops and runs messages
// back to back (yielding every `messages_per_turn`), so a message costs a call, not a fiber
// spawn (a Fiber and std::function allocation plus two switches; see bench-runtime). A
// message may suspend (IO, a lock, a nested submit): the worker that runs it gives up the
// "drainer" role while the message runs, so if it suspends, step 4 hands the role to an
// idle worker or spawns a new one, and the lanes keep draining. Idle workers park (at most
// `max_idle_workers` of them; extra ones exit).
//
// Why two shards whose lanes to each other are both full cannot deadlock: only fibers ever
// wait for lane space, never the loop, and step 4 guarantees that as long as a lane holds a
// message some worker is draining it (a new one is spawned if all are suspended in
// messages). So each shard keeps emptying its inbound lanes whatever its own blocked
// senders wait for, each pop eventually wakes a parked sender on the other side (step 3),
// and replies never need lane space at all (futures complete through the WakeInbox). The
// price is that the number of workers is bounded only by the number of messages suspended at
// once, as it would be with a fiber per message.
//
// Stopping (driven by Runtime::stop): request_stop() makes stop_requested() true, wakes
// every fiber in wait_for_stop()/sleep_until_or_stop(), and cancels IO in flight on the
// shard's ring so blocked recv/accept return -ECANCELED; the shard keeps running messages
// and fibers until the runtime has seen every shard idle with every lane drained, then
// request_exit() ends the loop and the thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "src/runtime/fiber.h"
#include "src/runtime/message_lane.h"
#include "src/runtime/reactor.h"
#include "src/runtime/result.h"
#include "src/runtime/scheduler.h"
#include "src/runtime/task.h"
#include "src/runtime/wake_inbox.h"

namespace cascade::runtime {

class Runtime;
using ShardId = std::uint32_t;

struct ShardOptions {
  SchedulerOptions scheduler;
  ReactorOptions reactor;
  std::size_t peer_lane_capacity = 512;      // messages, per ordered pair of shards
  std::size_t external_lane_capacity = 1024;  // messages from threads outside the runtime
  std::size_t messages_per_turn = 64;         // a worker yields after this many messages
  std::size_t max_idle_workers = 64;
  // Keep polling (without syscalls) this long after the last work before sleeping in the
  // kernel. Measured on the 2-core VM (bench-runtime): a shard-to-shard round trip is
  // ~0.3 us when the receiver is still polling and 20-45 us when both sides must be woken
  // from io_uring; 20 us of spin catches back-to-back calls. An idle shard spins at most
  // this long after its last work, so idle CPU stays ~0. Zero disables it.
  Duration idle_spin = std::chrono::microseconds(20);
  // Measurement knob: spawn a fresh fiber per message instead of reusing workers.
  bool fiber_per_message = false;
  bool cancel_io_on_stop = true;
  std::optional<unsigned> pin_to_cpu;
};

class Shard {
 public:
  Shard(Runtime& runtime, ShardId id, std::size_t shard_count, ShardOptions options);
  ~Shard();  // joins the thread if it was started
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // The shard whose thread is calling, or nullptr.
  static Shard* current();

  ShardId id() const { return id_; }
  std::size_t shard_count() const { return lanes_.size(); }
  Runtime& runtime() const { return runtime_; }
  // The shard thread's own objects; only from that thread.
  Scheduler& scheduler() { return *scheduler_; }
  Reactor& reactor() { return *reactor_; }

  // ---- lifecycle, from the thread that owns the Runtime --------------------------------
  // Gives the shard its peers (indexed by ShardId, including itself). Before start().
  void connect(std::vector<Shard*> peers);
  // Launches the thread and waits until its Scheduler and Reactor exist. The loop itself
  // starts at release(true), once every shard is ready, so no message finds a peer without
  // its reactor; release(false) ends a started thread whose siblings failed to start.
  Status start();
  void release(bool run_loop);
  void request_stop();  // any thread; idempotent
  void request_exit();  // any thread; only once the runtime is quiescent
  void join();

  // ---- messages -----------------------------------------------------------------------
  // From this shard's thread: runs `task` on shard `target` (never this one). From a fiber
  // it suspends while the lane is full; from the scheduler context it never blocks (a
  // helper fiber finishes the send).
  void send_to(ShardId target, Task&& task);
  // From a thread outside the runtime: blocks while the lane is full.
  void send_external(Task&& task);
  // From this shard's thread: runs `task` on a worker of this shard later, without a queue.
  void run_here(Task&& task);
  // Any thread: wakes the loop if it sleeps.
  void notify() { reactor_->notify(); }

  // ---- stopping, for fibers of this shard ---------------------------------------------
  bool stop_requested() const { return stop_requested_.load(std::memory_order_acquire); }
  // Suspends the calling fiber until the runtime starts stopping.
  void wait_for_stop();
  // Sleeps until `when`; returns false early (and at once) if the runtime is stopping.
  bool sleep_until_or_stop(TimePoint when);
  bool sleep_for_or_stop(Duration d) { return sleep_until_or_stop(Clock::now() + d); }

  // ---- shutdown bookkeeping, read by Runtime::stop from its thread -----------------------
  // Appends this shard's activity word and its lanes' sent/received counts to `out`.
  // Returns true if the shard reported itself idle and every inbound lane is drained.
  bool snapshot_activity(std::vector<std::uint64_t>& out) const;

  // ---- statistics (this shard's thread, or after join) -----------------------------------
  std::uint64_t messages_run() const { return messages_run_; }
  std::uint64_t workers_spawned() const { return workers_spawned_; }
  std::uint64_t parked_sends() const;  // sends from this shard that waited for space
  std::uint64_t external_parked_sends() const { return external_.parked_sends(); }
  std::uint64_t helper_sends() const { return helper_sends_; }  // see send_to()

 private:
  void thread_main();
  void run_loop();
  bool loop_turn();  // one turn; false once the loop should end
  bool has_pending_work();
  bool inbound_pending();
  bool pop_message(Task& out);
  void release_space();
  void ensure_drainer();
  void spawn_worker();
  void worker_main();
  void spawn_for_message(Task&& task);
  void publish_activity();
  void drain_messages();
  void spin_before_sleep();
  void on_stop();
  void send_from_helper_fiber(ShardId target, Task&& task);
  static void run_stop_node(WakeNode* node);
  static void notify_self(void* shard) { static_cast<Shard*>(shard)->notify(); }

  Runtime& runtime_;
  const ShardId id_;
  const ShardOptions options_;

  // Receiving side: lanes_[i] carries messages from shard i (nullptr for i == id_).
  std::vector<std::unique_ptr<PeerLane>> lanes_;
  ExternalLane external_;
  WakeInbox inbox_;
  std::vector<Shard*> peers_;

  // Owned by the shard thread; created there (the Reactor's ring is single-issuer).
  std::optional<Scheduler> scheduler_;
  std::optional<Reactor> reactor_;
  std::thread thread_;
  std::atomic<int> startup_{0};  // 0 starting, 1 ready, -1 failed, 2 go
  Status startup_status_;

  // Shard thread only.
  std::deque<Task> local_tasks_;
  WaitQueue idle_workers_;
  bool drainer_assigned_ = false;
  bool exiting_ = false;
  bool stop_seen_ = false;
  std::size_t next_lane_ = 0;
  WaitQueue stop_waiters_;
  bool published_idle_ = false;
  std::uint64_t busy_epoch_ = 0;
  TimePoint last_work_;
  std::uint64_t messages_run_ = 0;
  std::uint64_t workers_spawned_ = 0;
  std::uint64_t helper_sends_ = 0;

  // Cross-thread.
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> exit_requested_{false};
  std::atomic<std::uint64_t> activity_{0};  // busy_epoch << 1 | idle
  WakeNode stop_node_;
};

// The id of the shard running the calling fiber. Only from a shard thread.
inline ShardId this_shard_id() { return Shard::current()->id(); }

}  // namespace cascade::runtime
