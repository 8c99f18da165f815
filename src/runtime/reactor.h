// The io_uring reactor of one shard thread: every file and socket operation of the shard is
// a submission on this ring made by a fiber that then suspends until its completion.
//
// Ownership and threads. A Reactor is created, init()ed, polled and destroyed on the thread
// that owns it (the ring is SINGLE_ISSUER: the kernel refuses submissions from any other
// thread). The only call another thread may make is notify(). Reactor::current() is the
// reactor of the calling thread (set by the constructor), the one File and Socket use.
//
// Ring setup. init() asks for SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG (completion work
// runs only when this thread enters the kernel, so a busy shard is never interrupted) and
// falls back to COOP_TASKRUN, then to a plain ring, if the kernel refuses. No SQPOLL: it
// would burn a core we do not have.
//
// The operation record. await() keeps an IoOperation on the calling fiber's stack, points
// the SQE's user_data at it, and suspends the fiber. poll() reaps the CQE, stores the result
// in the record and wakes the fiber. Invariant: a record waits for every CQE that names it
// (two with a linked timeout) before its fiber continues, even when the operation is
// cancelled or timed out, so the kernel never writes into a dead stack frame. Corollaries:
// an operation's buffers stay valid until it completes; a fiber blocked in IO must not be
// destroyed (cancel its operations instead); and because every call waits for its own
// completion, operations one fiber issues one after another complete in that order (an
// fsync issued after a write is issued after the write completed).
//
// Batching and bounds. SQEs are queued and submitted in batches: by poll(), or as soon as
// `submit_batch` disk operations are waiting (with everything queued before them), or when
// the SQ is full. Socket operations alone never submit early: a round's replies and recvs
// go to the kernel in one io_uring_enter at its end, as a Redis event loop writes its
// replies after processing every ready client. Operations of IoClass::kDisk are limited to
// max_disk_in_flight: a fiber beyond the limit waits (FIFO) for a slot. No allocation
// happens per operation.
//
// Sleeping and notify(). poll(wait=true) may block in the kernel; another thread wakes it
// with notify(), which writes an eventfd the reactor always keeps a read armed on. notify()
// costs only an atomic load while the reactor is awake. The protocol that keeps a wake-up
// from being lost (a Dekker handshake, both sides with seq_cst fences):
//   sender:   publish the message (e.g. push to the shard's queue); reactor.notify();
//   reactor:  sleeping = true; fence; if (pending_work_check()) don't sleep; else block;
// so either the sender sees `sleeping` and writes the eventfd, or the reactor's check sees
// the message. The owner installs its check with set_pending_work_check().
//
// Outside a fiber (setup code, tools, tests' main), await() blocks the thread by driving
// poll() itself until its completion arrives. Never call it from a timer callback.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "src/runtime/fiber.h"
#include "src/runtime/result.h"
#include "src/runtime/timer_queue.h"

namespace cascade::runtime {

struct ReactorOptions {
  unsigned sq_entries = 256;          // a full SQ is submitted early
  unsigned cq_entries = 4096;         // beyond this the kernel keeps overflow (FEAT_NODROP)
  unsigned max_disk_in_flight = 64;   // IoClass::kDisk operations in the kernel at once
  // Submit as soon as this many disk operations are queued instead of waiting for the next
  // poll() (0: only at poll() or when the SQ is full). Holding a whole round's disk reads
  // back delays the first ones, and the device idles meanwhile: on the development VM, 4 KiB
  // random reads at queue depth 32 ran ~20% faster with batches of 4 than with one per
  // round. Socket operations do not count: submitting sends and recvs four at a time cost
  // an io_uring_enter per unpipelined command or so and spread a round's replies over
  // several small bursts, each waking the client again (redis-benchmark ZADD -c 50: 0.82-
  // 0.95 enters per command, against 0.48-0.55 once only disk operations count).
  unsigned submit_batch = 4;
};

// What an operation occupies: disk operations count against max_disk_in_flight; sockets,
// eventfds and metadata calls do not (a server has one recv pending per connection).
enum class IoClass : std::uint8_t { kOther, kDisk };

struct ReactorStats {
  std::uint64_t operations = 0;    // operations awaited
  std::uint64_t completions = 0;   // CQEs reaped (including internal ones)
  std::uint64_t enters = 0;        // io_uring_enter calls made by poll() and early submits
  std::uint64_t sleeps = 0;        // polls that blocked in the kernel
  std::uint64_t early_submits = 0; // enters before poll() for queued disk operations
  std::uint64_t disk_waits = 0;    // operations that waited for a disk slot
  std::uint64_t submitted_first = 0;  // await_first() SQEs submitted ahead of queued ones
};

// One operation's record, on the awaiting fiber's stack. See the invariant above.
struct IoOperation {
  Fiber* fiber = nullptr;          // nullptr when awaited outside a fiber
  int result = 0;                  // cqe->res of the operation
  int timeout_result = 0;          // cqe->res of its linked timeout, if any
  std::uint32_t cqe_flags = 0;
  std::uint8_t pending = 0;        // CQEs still to arrive
  IoClass io_class = IoClass::kOther;
  __kernel_timespec deadline{};    // read by the kernel at submission of a linked timeout
};

class Reactor {
 public:
  explicit Reactor(ReactorOptions options = {});
  ~Reactor();  // every awaited operation must have completed
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Creates the ring and the wake-up eventfd. Must succeed before any other call.
  Status init();

  // The reactor constructed on the calling thread, or nullptr.
  static Reactor* current();

  // Submits queued SQEs, reaps every available completion and wakes the fibers waiting on
  // them. With `wait` and nothing to reap, blocks until a completion, `deadline`, or
  // notify(). Returns the number of completions handled. Makes no syscall when nothing is
  // queued or in flight and `wait` is false. Call from the owner's loop, not from a fiber.
  std::size_t poll(bool wait, std::optional<TimePoint> deadline);
  // Submits every queued SQE without reaping or waiting (no syscall when none is queued):
  // for an owner about to run long (background work, a spin) with a round's sends queued.
  void submit_queued();

  // Thread-safe: wakes a poll() that is blocked, or the next one that would block. Call it
  // after publishing the work it should look at (see the protocol above).
  void notify();

  // Called by poll() after it announced it is going to sleep; returning true keeps it awake.
  void set_pending_work_check(std::function<bool()> check) { pending_work_check_ = std::move(check); }

  // Runs `prep(sqe)` on a fresh SQE, suspends the calling fiber until its completion and
  // returns cqe->res (a negative errno on failure). `prep` must not set user_data.
  template <typename Prep>
  int await(Prep&& prep, IoClass io_class = IoClass::kOther);

  // As await(), with a linked timeout: an operation still pending at `deadline` is cancelled
  // and -ETIME returned. Any other cancellation still returns -ECANCELED.
  template <typename Prep>
  int await_until(Prep&& prep, TimePoint deadline, IoClass io_class = IoClass::kOther);
  template <typename Prep>
  int await_for(Prep&& prep, Duration timeout, IoClass io_class = IoClass::kOther) {
    return await_until(std::forward<Prep>(prep), Clock::now() + timeout, io_class);
  }

  // As await(), but the operation goes to the kernel at once, alone, ahead of every SQE
  // queued and not yet submitted: for a write whose completion a whole group of clients
  // waits on (the WAL's synced write under appendfsync always). At the end of a round the
  // SQ holds that round's replies. The kernel runs a send to a local socket inline in the
  // submitting io_uring_enter, and it plugs the block requests of a batch until the batch
  // is done: submitted with the replies, even first, the write would reach the device only
  // after every reply had gone through the loopback (~100 us for 25 replies here), and
  // the device would idle meanwhile. Its SQE is moved before the unsubmitted ones (the
  // kernel sees none of them until the SQ tail is published; their order among
  // themselves, linked timeouts included, is kept) and the tail is published past it
  // alone. It never overtakes a queued cancel (cancel_fd, cancel_all), which is meant for
  // what was issued before it: it then goes right after the last one, and what precedes
  // that goes with it. Costs one io_uring_enter. Not linked to a timeout.
  template <typename Prep>
  int await_first(Prep&& prep, IoClass io_class = IoClass::kOther);

  // Asks the kernel to cancel every operation in flight on `fd` (or on any fd). Does not
  // wait: the cancelled operations complete with -ECANCELED at a following poll(). An
  // operation already running in a kernel worker (a disk write) may complete normally.
  void cancel_fd(int fd);
  void cancel_all();

  std::size_t in_flight() const { return in_flight_; }
  std::size_t disk_in_flight() const { return disk_in_flight_; }
  unsigned ring_flags() const { return ring_flags_; }  // IORING_SETUP_* the kernel accepted
  const ReactorStats& stats() const { return stats_; }
  std::uint64_t notifications_sent() const { return notifications_sent_.load(std::memory_order_relaxed); }

 private:
  // user_data values that are not operation records (records are 8-byte aligned).
  static constexpr std::uint64_t kIgnoredData = 0;
  static constexpr std::uint64_t kWakeReadData = 1;
  static constexpr std::uint64_t kTimeoutTag = 2;  // set on a linked timeout's user_data

  io_uring_sqe* get_sqe(unsigned needed);
  // await() and await_first(): one SQE, submitted with the round's or at once ahead of it.
  template <typename Prep>
  int await_one(Prep&& prep, IoClass io_class, bool first);
  // Moves the newest queued SQE to the front of the queued, unsubmitted ones (but behind
  // any queued cancel) and submits it, with only what stays before it.
  void submit_newest_first();
  // Every io_uring_enter that submits: counted, and the queued disk operations go with it.
  void note_enter() {
    ++stats_.enters;
    disk_queued_ = 0;
  }
  void submit_if_batch_full();
  void begin(IoOperation& op, IoClass io_class);
  void acquire_disk_slot();
  void release_disk_slot();
  void link_timeout(io_uring_sqe* sqe, IoOperation& op, TimePoint deadline);
  // Suspends until the operation completes; `queued`: its SQE waits for a submission
  // (counted toward submit_batch), not already submitted by await_first.
  int finish(IoOperation& op, bool queued = true);
  int finish_timed(IoOperation& op);

  bool needs_enter() const;
  bool stays_awake();
  void enter_without_wait();
  void enter_and_wait(std::optional<TimePoint> deadline);
  std::size_t reap();
  void complete(const io_uring_cqe& cqe);
  void arm_wake_read();
  void on_wake_read(int res);

  ReactorOptions options_;
  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned ring_flags_ = 0;
  bool taskrun_flag_ = false;  // the kernel tells us (IORING_SQ_TASKRUN) when to enter
  bool reaping_ = false;

  std::size_t in_flight_ = 0;
  std::size_t disk_in_flight_ = 0;
  unsigned disk_queued_ = 0;  // disk operations queued since the last submission
  WaitQueue disk_waiters_;

  int wake_fd_ = -1;
  std::uint64_t wake_value_ = 0;  // the armed eventfd read's buffer
  bool wake_read_armed_ = false;
  bool closing_ = false;
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> wake_pending_{false};  // an eventfd write is on its way; others skip theirs
  std::atomic<std::uint64_t> notifications_sent_{0};
  std::function<bool()> pending_work_check_;

  ReactorStats stats_;
};

template <typename Prep>
int Reactor::await_one(Prep&& prep, IoClass io_class, bool first) {
  IoOperation op;
  begin(op, io_class);
  io_uring_sqe* sqe = get_sqe(1);
  prep(sqe);
  io_uring_sqe_set_data(sqe, &op);
  op.pending = 1;
  if (first) submit_newest_first();
  return finish(op, !first);
}

template <typename Prep>
int Reactor::await(Prep&& prep, IoClass io_class) {
  return await_one(std::forward<Prep>(prep), io_class, false);
}

template <typename Prep>
int Reactor::await_first(Prep&& prep, IoClass io_class) {
  return await_one(std::forward<Prep>(prep), io_class, true);
}

template <typename Prep>
int Reactor::await_until(Prep&& prep, TimePoint deadline, IoClass io_class) {
  IoOperation op;
  begin(op, io_class);
  io_uring_sqe* sqe = get_sqe(2);  // the operation and its timeout go into one submission
  prep(sqe);
  io_uring_sqe_set_data(sqe, &op);
  link_timeout(sqe, op, deadline);
  op.pending = 2;
  return finish_timed(op);
}

}  // namespace cascade::runtime
