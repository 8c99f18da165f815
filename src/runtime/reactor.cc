// See reactor.h for the contract. Notes on the implementation:
//
// - poll() is the only place that blocks. It enters the kernel once per call at most when it
//   does not wait (submit + run deferred completion work in one io_uring_enter), and once
//   when it waits (io_uring_submit_and_wait_timeout, whose timeout travels in EXT_ARG and
//   takes no SQE).
// - With DEFER_TASKRUN, completions are only posted when this thread enters the kernel with
//   GETEVENTS; TASKRUN_FLAG makes the kernel raise IORING_SQ_TASKRUN when such work is
//   waiting, which is how poll(wait=false) knows whether a syscall would find anything.
#include "src/runtime/reactor.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>

#include "src/runtime/scheduler.h"

namespace cascade::runtime {
namespace {

thread_local Reactor* t_current_reactor = nullptr;

// Setup flags in order of preference; the first the kernel accepts wins.
constexpr unsigned kSetupFlagChoices[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_COOP_TASKRUN,
    0,
};

__kernel_timespec to_timespec(Duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 0) ns = 0;
  return {.tv_sec = ns / 1'000'000'000, .tv_nsec = ns % 1'000'000'000};
}

bool in_fiber() {
  Scheduler* s = Scheduler::current();
  return s != nullptr && s->in_fiber();
}

}  // namespace

Reactor::Reactor(ReactorOptions options) : options_(options) { t_current_reactor = this; }

Reactor::~Reactor() {
  pending_work_check_ = nullptr;
  if (ring_ready_) {
    // The armed eventfd read names wake_value_, a member: wait for its CQE before the ring
    // and this object go away.
    closing_ = true;
    if (wake_read_armed_) {
      io_uring_sqe* sqe = get_sqe(1);
      io_uring_prep_cancel64(sqe, kWakeReadData, 0);
      io_uring_sqe_set_data64(sqe, kIgnoredData);
      for (int i = 0; i < 100 && wake_read_armed_; ++i) {
        (void)poll(true, Clock::now() + std::chrono::milliseconds(10));
      }
    }
    assert(in_flight_ == 0 && "a Reactor destroyed with operations in flight");
    io_uring_queue_exit(&ring_);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (t_current_reactor == this) t_current_reactor = nullptr;
}

Reactor* Reactor::current() { return t_current_reactor; }

Status Reactor::init() {
  assert(!ring_ready_);
  int err = 0;
  for (unsigned flags : kSetupFlagChoices) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = options_.cq_entries;
    err = io_uring_queue_init_params(options_.sq_entries, &ring_, &params);
    if (err == 0) {
      ring_flags_ = flags;
      break;
    }
    if (err != -EINVAL) break;  // EINVAL: these flags are unknown to this kernel
  }
  if (err != 0) return Status::from_errno(err, "io_uring_queue_init");
  ring_ready_ = true;
  taskrun_flag_ = (ring_flags_ & IORING_SETUP_TASKRUN_FLAG) != 0;
  (void)io_uring_register_ring_fd(&ring_);  // saves an fd lookup per enter where supported

  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);  // blocking: io_uring then arms a poll for the read
  if (wake_fd_ < 0) return Status::from_errno(errno, "eventfd");
  arm_wake_read();
  return Status::ok();
}

// ---- submission ---------------------------------------------------------------------------

io_uring_sqe* Reactor::get_sqe(unsigned needed) {
  assert(ring_ready_);
  while (io_uring_sq_space_left(&ring_) < needed) {
    note_enter();
    int r = io_uring_submit(&ring_);
    // The kernel may refuse while completions overflow; reaping makes room.
    if (r < 0 && r != -EINTR && !reaping_) (void)reap();
  }
  return io_uring_get_sqe(&ring_);
}

// [sq.sqe_head, sq.sqe_tail) are the SQEs queued since the last submission: the kernel sees
// them only once io_uring_submit publishes the tail (up to sqe_tail, then sqe_head = it),
// and takes them in array order. The newest goes before every queued SQE but a cancel
// (cancel_fd, cancel_all) and what precedes one: a cancel queued before it is meant for
// operations issued before it, and must not reach this one.
void Reactor::submit_newest_first() {
  io_uring_sq& sq = ring_.sq;
  const unsigned head = sq.sqe_head;
  const unsigned tail = sq.sqe_tail;
  const unsigned mask = sq.ring_mask;
  unsigned at = head;
  for (unsigned i = head; i + 1 != tail; ++i) {
    if (sq.sqes[i & mask].opcode == IORING_OP_ASYNC_CANCEL) at = i + 1;
  }
  if (tail - at > 1) {
    const io_uring_sqe newest = sq.sqes[(tail - 1) & mask];
    for (unsigned i = tail - 1; i != at; --i) sq.sqes[i & mask] = sq.sqes[(i - 1) & mask];
    sq.sqes[at & mask] = newest;
  }
  sq.sqe_tail = at + 1;
  ++stats_.enters;  // not note_enter(): the disk operations queued behind it stay queued
  ++stats_.submitted_first;
  // Refused (completions overflowing): it is published already, and the next submission
  // takes it, still ahead of the rest.
  (void)io_uring_submit(&ring_);
  sq.sqe_tail = tail;
}

void Reactor::submit_if_batch_full() {
  if (options_.submit_batch == 0 || disk_queued_ < options_.submit_batch) return;
  note_enter();
  ++stats_.early_submits;
  (void)io_uring_submit(&ring_);  // a failure leaves the SQEs queued for the next poll()
}

void Reactor::begin(IoOperation& op, IoClass io_class) {
  op.io_class = io_class;
  if (in_fiber()) op.fiber = Scheduler::current()->current_fiber();
  if (io_class == IoClass::kDisk) acquire_disk_slot();
  ++in_flight_;
  ++stats_.operations;
}

void Reactor::acquire_disk_slot() {
  if (disk_in_flight_ < options_.max_disk_in_flight && disk_waiters_.empty()) {
    ++disk_in_flight_;
    return;
  }
  ++stats_.disk_waits;
  if (in_fiber()) {
    // release_disk_slot() hands its slot straight to the first waiter, so the count is not
    // incremented here: waking us is the hand-over.
    Scheduler* s = Scheduler::current();
    Fiber* self = s->current_fiber();
    disk_waiters_.push_back(self);
    while (disk_waiters_.contains(self)) s->suspend();
    return;
  }
  while (disk_in_flight_ >= options_.max_disk_in_flight) (void)poll(true, std::nullopt);
  ++disk_in_flight_;
}

void Reactor::release_disk_slot() {
  if (Fiber* next = disk_waiters_.pop_front()) {
    next->scheduler().wake(next);
    return;
  }
  --disk_in_flight_;
}

void Reactor::link_timeout(io_uring_sqe* sqe, IoOperation& op, TimePoint deadline) {
  sqe->flags |= IOSQE_IO_LINK;
  // An absolute CLOCK_MONOTONIC deadline (steady_clock's clock): retries and queueing
  // before submission do not stretch it.
  op.deadline = to_timespec(deadline.time_since_epoch());
  io_uring_sqe* timeout = io_uring_get_sqe(&ring_);  // get_sqe(2) reserved the room
  io_uring_prep_link_timeout(timeout, &op.deadline, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(timeout, reinterpret_cast<std::uint64_t>(&op) | kTimeoutTag);
}

int Reactor::finish(IoOperation& op, bool queued) {
  // Counted here, once its SQE (and its linked timeout) is queued: a submission while
  // get_sqe() made room went before it.
  if (queued) {
    if (op.io_class == IoClass::kDisk) ++disk_queued_;
    submit_if_batch_full();
  }
  if (op.fiber != nullptr) {
    Scheduler& s = op.fiber->scheduler();
    while (op.pending > 0) s.suspend();
  } else {
    while (op.pending > 0) (void)poll(true, std::nullopt);
  }
  return op.result;
}

int Reactor::finish_timed(IoOperation& op) {
  int res = finish(op);
  // The operation was cancelled by its own timer (not by cancel_fd) when the timer fired.
  if (res == -ECANCELED && op.timeout_result == -ETIME) return -ETIME;
  return res;
}

void Reactor::cancel_fd(int fd) {
  io_uring_sqe* sqe = get_sqe(1);
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, kIgnoredData);
}

void Reactor::cancel_all() {
  io_uring_sqe* sqe = get_sqe(1);
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data64(sqe, kIgnoredData);
}

// ---- polling ------------------------------------------------------------------------------

std::size_t Reactor::poll(bool wait, std::optional<TimePoint> deadline) {
  assert(ring_ready_);
  if (wait && deadline && *deadline <= Clock::now()) wait = false;
  if (wait && io_uring_cq_ready(&ring_) == 0 && !stays_awake()) {
    enter_and_wait(deadline);
  } else if (needs_enter()) {
    enter_without_wait();
  }
  return reap();
}

bool Reactor::needs_enter() const {
  if (io_uring_sq_ready(&ring_) > 0) return true;
  unsigned sq_flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
  if (sq_flags & IORING_SQ_CQ_OVERFLOW) return true;
  if (taskrun_flag_) return (sq_flags & IORING_SQ_TASKRUN) != 0;
  // Without the flag we cannot tell whether deferred completion work waits: enter whenever
  // something is in flight (the armed eventfd read does not count).
  bool deferred = (ring_flags_ & (IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN)) != 0;
  return deferred && in_flight_ > 0;
}

// The reactor's half of the notify() handshake: announce the sleep, then look once more.
bool Reactor::stays_awake() {
  sleeping_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (pending_work_check_ && pending_work_check_()) {
    sleeping_.store(false, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void Reactor::submit_queued() {
  if (io_uring_sq_ready(&ring_) == 0) return;
  note_enter();
  (void)io_uring_submit(&ring_);  // a failure leaves them queued for the next poll()
}

void Reactor::enter_without_wait() {
  note_enter();
  (void)io_uring_submit_and_get_events(&ring_);
}

void Reactor::enter_and_wait(std::optional<TimePoint> deadline) {
  note_enter();
  ++stats_.sleeps;
  io_uring_cqe* cqe = nullptr;
  __kernel_timespec ts{};
  if (deadline) ts = to_timespec(*deadline - Clock::now());
  // -ETIME (deadline) and -EINTR (a signal) are normal ways to wake up.
  (void)io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, deadline ? &ts : nullptr, nullptr);
  sleeping_.store(false, std::memory_order_relaxed);
}

std::size_t Reactor::reap() {
  reaping_ = true;
  std::size_t handled = 0;
  unsigned head;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    complete(*cqe);
    ++handled;
  }
  io_uring_cq_advance(&ring_, static_cast<unsigned>(handled));
  stats_.completions += handled;
  reaping_ = false;
  return handled;
}

void Reactor::complete(const io_uring_cqe& cqe) {
  std::uint64_t data = cqe.user_data;
  if (data == kIgnoredData) return;
  if (data == kWakeReadData) {
    on_wake_read(cqe.res);
    return;
  }
  auto* op = reinterpret_cast<IoOperation*>(data & ~kTimeoutTag);
  if (data & kTimeoutTag) {
    op->timeout_result = cqe.res;
  } else {
    op->result = cqe.res;
    op->cqe_flags = cqe.flags;
  }
  if (--op->pending > 0) return;
  // The record may be gone as soon as its fiber runs; nothing below touches it after wake.
  --in_flight_;
  if (op->io_class == IoClass::kDisk) release_disk_slot();
  if (Fiber* f = op->fiber) f->scheduler().wake(f);
}

// ---- cross-thread wake-up -----------------------------------------------------------------

void Reactor::notify() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!sleeping_.load(std::memory_order_relaxed)) return;
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  notifications_sent_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t one = 1;
  while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Reactor::arm_wake_read() {
  io_uring_sqe* sqe = get_sqe(1);
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
  io_uring_sqe_set_data64(sqe, kWakeReadData);
  wake_read_armed_ = true;
}

void Reactor::on_wake_read(int /*res*/) {
  wake_read_armed_ = false;
  // An exchange, not a store: it reads the last sender's `true`, so everything that sender
  // published before skipping its own write is visible to the round that follows.
  (void)wake_pending_.exchange(false, std::memory_order_acq_rel);
  if (!closing_) arm_wake_read();
}

}  // namespace cascade::runtime
