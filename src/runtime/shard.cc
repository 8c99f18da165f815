// The shard thread and its loop. The rules (what runs where, why nothing deadlocks, how
// stopping works) are in shard.h; the comments here only explain local choices.
#include "src/runtime/shard.h"

#include <pthread.h>
#include <sched.h>

#include <cassert>
#include <utility>

namespace cascade::runtime {
namespace {
thread_local Shard* tls_shard = nullptr;

inline void cpu_relax() { __builtin_ia32_pause(); }
}  // namespace

Shard::Shard(Runtime& runtime, ShardId id, std::size_t shard_count, ShardOptions options)
    : runtime_(runtime), id_(id), options_(std::move(options)),
      external_(options_.external_lane_capacity), inbox_(&Shard::notify_self, this) {
  lanes_.resize(shard_count);
  stop_node_.run = &run_stop_node;
}

Shard::~Shard() { join(); }

Shard* Shard::current() { return tls_shard; }

void Shard::connect(std::vector<Shard*> peers) {
  assert(peers.size() == lanes_.size());
  peers_ = std::move(peers);
  for (ShardId from = 0; from < peers_.size(); ++from) {
    if (from == id_) continue;
    // The lane from `from` to us wakes parked senders through the sender's inbox.
    lanes_[from] = std::make_unique<PeerLane>(options_.peer_lane_capacity, peers_[from]->inbox_);
  }
}

// ---- lifecycle --------------------------------------------------------------------------

Status Shard::start() {
  thread_ = std::thread([this] { thread_main(); });
  int state = 0;
  while ((state = startup_.load(std::memory_order_acquire)) == 0) startup_.wait(0);
  if (state < 0) {
    thread_.join();
    return startup_status_;
  }
  return Status::ok();
}

void Shard::release(bool run_loop) {
  startup_.store(run_loop ? 2 : -2, std::memory_order_release);
  startup_.notify_all();
}

void Shard::request_stop() {
  if (stop_requested_.exchange(true, std::memory_order_acq_rel)) return;
  inbox_.push(&stop_node_);  // on_stop() runs on the shard's own thread
}

void Shard::request_exit() {
  exit_requested_.store(true, std::memory_order_release);
  notify();
}

void Shard::join() {
  if (thread_.joinable()) thread_.join();
}

void Shard::thread_main() {
  tls_shard = this;
  if (options_.pin_to_cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*options_.pin_to_cpu, &set);
    // Best effort: a restricted cpuset may refuse, and an unpinned shard still works.
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  scheduler_.emplace(options_.scheduler);
  // Sockets' operations are submitted at the poll (reactor.h, "Batching and bounds"); a
  // round with background work to run sends its replies first.
  scheduler_->set_before_background([this] { reactor_->submit_queued(); });
  reactor_.emplace(options_.reactor);
  if (Status s = reactor_->init(); !s) {
    startup_status_ = std::move(s);
    reactor_.reset();
    scheduler_.reset();
    tls_shard = nullptr;
    startup_.store(-1, std::memory_order_release);
    startup_.notify_all();
    return;
  }
  reactor_->set_pending_work_check([this] { return has_pending_work(); });
  WakeInbox::set_current(&inbox_);
  startup_.store(1, std::memory_order_release);
  startup_.notify_all();
  int state;
  while ((state = startup_.load(std::memory_order_acquire)) == 1) startup_.wait(1);
  if (state == 2) run_loop();
  WakeInbox::set_current(nullptr);
  reactor_.reset();
  scheduler_.reset();
  tls_shard = nullptr;
}

// ---- the loop ---------------------------------------------------------------------------

void Shard::run_loop() {
  last_work_ = Clock::now();
  while (loop_turn()) {
  }
}

bool Shard::loop_turn() {
  std::size_t worked = scheduler_->run_round();
  worked += inbox_.run_all();
  release_space();
  if (exit_requested_.load(std::memory_order_acquire)) {
    if (!exiting_) {
      exiting_ = true;  // idle workers return instead of parking again
      while (Fiber* w = idle_workers_.pop_front()) scheduler_->wake(w);
    }
    if (scheduler_->live_fibers() == 0) return false;
  }
  ensure_drainer();
  publish_activity();
  const bool ready = scheduler_->has_ready() || inbox_.pending();
  if (!ready && options_.idle_spin > Duration::zero()) {
    if (worked != 0) last_work_ = Clock::now();
    reactor_->submit_queued();  // the round's sends go now, not after the spin
    spin_before_sleep();  // poll()'s pending-work check then sees what the spin found
  }
  reactor_->poll(!ready, scheduler_->next_deadline());
  return true;
}

bool Shard::has_pending_work() {
  return scheduler_->has_ready() || inbox_.pending() || inbound_pending();
}

// Busy-polls for new work until idle_spin has passed since the last work, so a reply or a
// request arriving right after a burst is picked up without a kernel round trip.
void Shard::spin_before_sleep() {
  const TimePoint until = last_work_ + options_.idle_spin;
  for (unsigned i = 0;; ++i) {
    if (has_pending_work()) return;
    if ((i & 63) == 0 && Clock::now() >= until) return;
    cpu_relax();
  }
}

bool Shard::inbound_pending() {
  if (!local_tasks_.empty() || !external_.empty()) return true;
  for (auto& lane : lanes_) {
    if (lane && !lane->empty()) return true;
  }
  return false;
}

void Shard::release_space() {
  for (auto& lane : lanes_) {
    if (lane) lane->release_space();
  }
  external_.release_space();
}

// Sources are polled round-robin so no sender can starve another: index i < shard_count is
// the lane from shard i (our own index stands for run_here()'s local tasks), and index
// shard_count is the external lane.
bool Shard::pop_message(Task& out) {
  const std::size_t sources = lanes_.size() + 1;
  for (std::size_t tried = 0; tried < sources; ++tried) {
    const std::size_t s = next_lane_;
    next_lane_ = (next_lane_ + 1 == sources) ? 0 : next_lane_ + 1;
    if (s == lanes_.size()) {
      if (external_.try_receive(out)) return true;
    } else if (s == id_) {
      if (!local_tasks_.empty()) {
        out = std::move(local_tasks_.front());
        local_tasks_.pop_front();
        return true;
      }
    } else if (lanes_[s]->try_receive(out)) {
      return true;
    }
  }
  return false;
}

// ---- message workers --------------------------------------------------------------------

void Shard::ensure_drainer() {
  if (drainer_assigned_ || !inbound_pending()) return;
  if (options_.fiber_per_message) {
    Task task;
    while (pop_message(task)) spawn_for_message(std::move(task));
    return;
  }
  drainer_assigned_ = true;
  if (Fiber* worker = idle_workers_.pop_front()) {
    scheduler_->wake(worker);
  } else {
    spawn_worker();
  }
}

void Shard::spawn_worker() {
  ++workers_spawned_;
  scheduler_->spawn([this] { worker_main(); }, SpawnOptions{.name = "shard-worker"});
}

// A worker is spawned or woken holding the drainer role.
void Shard::worker_main() {
  for (;;) {
    drain_messages();
    if (exiting_ || idle_workers_.size() >= options_.max_idle_workers) return;
    idle_workers_.push_back(scheduler_->current_fiber());
    scheduler_->suspend();
    if (exiting_) return;  // woken to end, not to drain
  }
}

// Runs messages while this worker holds the drainer role. The role is dropped while a
// message runs: if the message suspends, ensure_drainer() may give the role to another
// worker, and this one then returns (to park) when its message finishes.
void Shard::drain_messages() {
  Task task;
  std::size_t batch = 0;
  while (pop_message(task)) {
    drainer_assigned_ = false;
    task();
    task.reset();
    ++messages_run_;
    if (drainer_assigned_) return;  // another worker drains now
    drainer_assigned_ = true;
    if (++batch == options_.messages_per_turn) {
      batch = 0;
      scheduler_->yield();
    }
  }
  drainer_assigned_ = false;
}

void Shard::spawn_for_message(Task&& task) {
  // std::function needs a copyable callable, so the move-only Task goes behind a pointer:
  // this is the cost the worker design avoids, kept only to measure it.
  auto boxed = std::make_shared<Task>(std::move(task));
  scheduler_->spawn([this, boxed] {
    (*boxed)();
    ++messages_run_;
  });
}

// ---- sending ----------------------------------------------------------------------------

void Shard::send_to(ShardId target, Task&& task) {
  assert(target != id_ && target < peers_.size());
  Shard* receiver = peers_[target];
  PeerLane& lane = *receiver->lanes_[id_];
  if (!lane.try_send(std::move(task))) {
    if (!scheduler_->in_fiber()) {
      send_from_helper_fiber(target, std::move(task));
      return;
    }
    lane.send(std::move(task));
  }
  receiver->notify();
}

// The scheduler context (a timer callback, a wake node) must never block, so a send that
// finds the lane full there is finished by a fiber. Rare; it may reorder this message after
// later ones from the same shard.
void Shard::send_from_helper_fiber(ShardId target, Task&& task) {
  ++helper_sends_;
  auto boxed = std::make_shared<Task>(std::move(task));
  scheduler_->spawn([this, target, boxed] { send_to(target, std::move(*boxed)); },
                    SpawnOptions{.name = "shard-send"});
}

void Shard::send_external(Task&& task) {
  assert(tls_shard == nullptr && "shard threads send through their peer lanes");
  external_.send(std::move(task));
  notify();
}

void Shard::run_here(Task&& task) {
  assert(tls_shard == this);
  local_tasks_.push_back(std::move(task));
}

std::uint64_t Shard::parked_sends() const {
  std::uint64_t n = 0;
  for (ShardId to = 0; to < peers_.size(); ++to) {
    if (to != id_) n += peers_[to]->lanes_[id_]->parked_sends();
  }
  return n;
}

// ---- stopping ---------------------------------------------------------------------------

void Shard::run_stop_node(WakeNode* node) {
  (void)node;
  tls_shard->on_stop();
}

void Shard::on_stop() {
  stop_seen_ = true;
  while (Fiber* f = stop_waiters_.pop_front()) scheduler_->wake(f);
  if (options_.cancel_io_on_stop) reactor_->cancel_all();
}

void Shard::wait_for_stop() {
  if (stop_seen_) return;
  stop_waiters_.push_back(scheduler_->current_fiber());
  scheduler_->suspend();
}

bool Shard::sleep_until_or_stop(TimePoint when) {
  if (stop_seen_) return false;
  Fiber* self = scheduler_->current_fiber();
  stop_waiters_.push_back(self);
  TimerId timer = scheduler_->add_timer(when, [this, self] {
    stop_waiters_.remove(self);
    scheduler_->wake(self);
  });
  scheduler_->suspend();
  scheduler_->cancel_timer(timer);  // no-op if it fired
  return !stop_seen_;
}

// The shard is idle when its only fibers are parked workers and nothing waits in its lanes
// or inbox. busy_epoch_ grows on every idle -> busy change, and busy is published before
// any worker pops the message that caused it (workers run only in the next turn), which is
// what Runtime::stop's two-snapshot quiescence test relies on.
void Shard::publish_activity() {
  const bool idle = scheduler_->live_fibers() == idle_workers_.size() && !inbound_pending() &&
                    !inbox_.pending();
  if (idle == published_idle_) return;
  if (!idle) ++busy_epoch_;
  published_idle_ = idle;
  activity_.store(busy_epoch_ << 1 | (idle ? 1 : 0), std::memory_order_seq_cst);
}

bool Shard::snapshot_activity(std::vector<std::uint64_t>& out) const {
  const std::uint64_t activity = activity_.load(std::memory_order_seq_cst);
  out.push_back(activity);
  bool drained = true;
  for (const auto& lane : lanes_) {
    if (!lane) continue;
    const std::uint64_t sent = lane->sent();
    const std::uint64_t received = lane->received();
    out.push_back(sent);
    out.push_back(received);
    drained = drained && sent == received;
  }
  const std::uint64_t sent = external_.sent();
  const std::uint64_t received = external_.received();
  out.push_back(sent);
  out.push_back(received);
  return (activity & 1) != 0 && drained && sent == received;
}

}  // namespace cascade::runtime
