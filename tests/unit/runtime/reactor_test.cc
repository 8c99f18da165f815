#include "src/runtime/reactor.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;
using cascade::runtime::testing::IoLoop;

namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    ::close(read_end);
    ::close(write_end);
  }
  void write_bytes(std::size_t n) const {
    std::vector<char> bytes(n, 'x');
    REQUIRE(::write(write_end, bytes.data(), n) == static_cast<ssize_t>(n));
  }
};

int await_nop(Reactor& r, IoClass io_class = IoClass::kOther) {
  return r.await([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }, io_class);
}

// Spawns `n` fibers that each await a nop of `io_class` and count it in `completed`.
void spawn_nops(IoLoop& loop, int n, int& completed, IoClass io_class = IoClass::kOther) {
  for (int i = 0; i < n; ++i) {
    loop.sched.spawn([&loop, &completed, io_class] {
      completed += await_nop(loop.reactor, io_class) == 0;
    });
  }
}

int await_pipe_read(Reactor& r, const Pipe& p, char* buf, std::size_t n,
                    IoClass io_class = IoClass::kOther) {
  return r.await([&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end, buf, n, 0); },
                 io_class);
}

}  // namespace

TEST_CASE("reactor rings are created single-issuer with deferred task work") {
  IoLoop loop;
  CHECK(Reactor::current() == &loop.reactor);
  // Kernel 6.1+ accepts the preferred flags; an older kernel would take a fallback.
  CHECK((loop.reactor.ring_flags() & IORING_SETUP_SINGLE_ISSUER) != 0);
  CHECK((loop.reactor.ring_flags() & IORING_SETUP_DEFER_TASKRUN) != 0);
}

TEST_CASE("a fiber awaiting a read resumes with its result only after the data arrives") {
  IoLoop loop;
  Pipe pipe;
  char buf[8] = {};
  int result = -1;
  bool resumed = false;
  loop.sched.spawn([&] {
    result = await_pipe_read(loop.reactor, pipe, buf, sizeof buf);
    resumed = true;
  });
  for (int i = 0; i < 5; ++i) {
    loop.sched.run_round();
    loop.reactor.poll(false, std::nullopt);
  }
  CHECK_FALSE(resumed);
  CHECK(loop.reactor.in_flight() == 1);
  pipe.write_bytes(3);
  REQUIRE(loop.run());
  CHECK(resumed);
  CHECK(result == 3);
  CHECK(loop.reactor.in_flight() == 0);
}

TEST_CASE("await outside a fiber blocks the thread until its completion") {
  IoLoop loop;
  CHECK(await_nop(loop.reactor) == 0);
  Pipe pipe;
  pipe.write_bytes(2);
  char buf[4];
  CHECK(await_pipe_read(loop.reactor, pipe, buf, sizeof buf) == 2);
}

TEST_CASE("poll without wait makes no syscall when nothing is queued or completing") {
  IoLoop loop;
  loop.reactor.poll(false, std::nullopt);  // submits the armed wake-up read
  std::uint64_t enters = loop.reactor.stats().enters;
  for (int i = 0; i < 100; ++i) CHECK(loop.reactor.poll(false, std::nullopt) == 0);
  CHECK(loop.reactor.stats().enters == enters);
}

TEST_CASE("without a submit batch, operations of many fibers go to the kernel in one enter per poll") {
  ReactorOptions options;
  options.submit_batch = 0;
  IoLoop loop(options);
  loop.reactor.poll(false, std::nullopt);
  int completed = 0;
  spawn_nops(loop, 64, completed);
  std::uint64_t enters = loop.reactor.stats().enters;
  loop.sched.run_round();  // all 64 queue their SQE and suspend
  CHECK(loop.reactor.stats().enters == enters);
  loop.reactor.poll(true, std::nullopt);
  CHECK(loop.reactor.stats().enters == enters + 1);
  REQUIRE(loop.run());
  CHECK(completed == 64);
}

TEST_CASE("queued disk operations are submitted in the round once a submit batch is full") {
  ReactorOptions options;
  options.submit_batch = 4;
  IoLoop loop(options);
  loop.reactor.poll(false, std::nullopt);
  int completed = 0;
  spawn_nops(loop, 10, completed, IoClass::kDisk);
  std::uint64_t enters = loop.reactor.stats().enters;
  loop.sched.run_round();
  CHECK(loop.reactor.stats().enters == enters + 2);  // at the 4th and the 8th operation
  CHECK(loop.reactor.stats().early_submits == 2);
  CHECK(loop.reactor.poll(false, std::nullopt) >= 8);  // the 9th and 10th go here
  REQUIRE(loop.run());
  CHECK(completed == 10);
}

TEST_CASE("socket operations wait for the poll however many are queued") {
  // A round's sends and recvs go to the kernel together at its end; only disk operations
  // count toward the submit batch, and a disk one takes the others queued before it along.
  ReactorOptions options;
  options.submit_batch = 4;
  IoLoop loop(options);
  loop.reactor.poll(false, std::nullopt);
  int completed = 0;
  spawn_nops(loop, 10, completed);
  std::uint64_t enters = loop.reactor.stats().enters;
  loop.sched.run_round();
  CHECK(loop.reactor.stats().enters == enters);
  CHECK(loop.reactor.stats().early_submits == 0);
  spawn_nops(loop, 4, completed, IoClass::kDisk);
  loop.sched.run_round();
  CHECK(loop.reactor.stats().enters == enters + 1);  // the 4th disk operation: all 14 go
  CHECK(loop.reactor.poll(false, std::nullopt) == 14);
  REQUIRE(loop.run());
  CHECK(completed == 14);
}

TEST_CASE("submit_queued sends queued operations to the kernel without reaping them") {
  IoLoop loop;
  loop.reactor.poll(false, std::nullopt);
  int completed = 0;
  spawn_nops(loop, 3, completed);
  loop.sched.run_round();
  std::uint64_t enters = loop.reactor.stats().enters;
  loop.reactor.submit_queued();
  CHECK(loop.reactor.stats().enters == enters + 1);
  loop.reactor.submit_queued();  // nothing queued: no syscall
  CHECK(loop.reactor.stats().enters == enters + 1);
  CHECK(completed == 0);
  REQUIRE(loop.run());
  CHECK(completed == 3);
}

TEST_CASE("await_first submits its operation at once, alone, ahead of every queued one") {
  // Three operations queued in a round (one with a linked timeout), then a synced write's
  // stand-in: it goes to the kernel in its own enter while the others wait for the poll,
  // so its completion is reaped first; the queued ones keep their order and the linked
  // pair stays intact (its operation returns its own result, not -ETIME or -EINVAL).
  IoLoop loop;
  loop.reactor.poll(false, std::nullopt);
  std::vector<char> order;
  int timed_result = -1;
  auto nop = [](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); };
  loop.sched.spawn([&] {
    CHECK(loop.reactor.await(nop) == 0);
    order.push_back('a');
  });
  loop.sched.spawn([&] {
    timed_result = loop.reactor.await_for(nop, 10s);
    order.push_back('b');
  });
  loop.sched.spawn([&] {
    CHECK(loop.reactor.await(nop, IoClass::kDisk) == 0);
    order.push_back('c');
  });
  loop.sched.spawn([&] {
    CHECK(loop.reactor.await_first(nop, IoClass::kDisk) == 0);
    order.push_back('F');
  });
  std::uint64_t enters = loop.reactor.stats().enters;
  loop.sched.run_round();
  CHECK(loop.reactor.stats().enters == enters + 1);
  CHECK(loop.reactor.stats().submitted_first == 1);
  CHECK(order.empty());
  REQUIRE(loop.run(5s));
  // b completes with its timeout's CQE, which may follow c's.
  std::string seen(order.begin(), order.end());
  CHECK((seen == "Fabc" || seen == "Facb"));
  CHECK(timed_result == 0);
}

TEST_CASE("await_first does not overtake a queued cancel: it cancels only what came before") {
  // A read blocks on an empty pipe; in one round a fiber queues cancel_fd for the pipe,
  // then another awaits a read of it with await_first. The cancel ends the first read; the
  // second, issued after the cancel, must not be cancelled: it gets the byte written later.
  IoLoop loop;
  Pipe pipe;
  int first = 0;
  int second = 0;
  loop.sched.spawn([&] {
    char c;
    first = await_pipe_read(loop.reactor, pipe, &c, 1);
  });
  loop.sched.run_round();
  loop.reactor.poll(false, std::nullopt);  // the first read is in the kernel, waiting
  loop.sched.spawn([&] { loop.reactor.cancel_fd(pipe.read_end); });
  loop.sched.spawn([&] {
    char c;
    second = loop.reactor.await_first(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, pipe.read_end, &c, 1, 0); });
  });
  loop.sched.spawn([&] {
    this_fiber::sleep_for(20ms);
    pipe.write_bytes(1);
  });
  REQUIRE(loop.run(5s));
  CHECK(first == -ECANCELED);
  CHECK(second == 1);
}

TEST_CASE("await_first with nothing queued is an ordinary submission") {
  IoLoop loop;
  loop.reactor.poll(false, std::nullopt);
  int result = -1;
  loop.sched.spawn([&] {
    result = loop.reactor.await_first([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
  });
  REQUIRE(loop.run(5s));
  CHECK(result == 0);
  CHECK(loop.reactor.stats().submitted_first == 1);
}

TEST_CASE("more operations than SQ entries are submitted early and all complete") {
  ReactorOptions options;
  options.sq_entries = 8;
  options.cq_entries = 16;
  IoLoop loop(options);
  int completed = 0;
  spawn_nops(loop, 1000, completed);
  REQUIRE(loop.run());
  CHECK(completed == 1000);
  CHECK(loop.reactor.in_flight() == 0);
}

TEST_CASE("disk operations beyond the in-flight limit wait for a slot in arrival order") {
  ReactorOptions options;
  options.max_disk_in_flight = 2;
  IoLoop loop(options);
  constexpr int kFibers = 6;
  std::vector<Pipe> pipes(kFibers);
  std::vector<bool> done(kFibers, false);
  std::size_t peak = 0;
  auto step = [&] {
    loop.sched.run_round();
    loop.reactor.poll(!loop.sched.has_ready(), Clock::now() + 10ms);
    peak = std::max(peak, loop.reactor.disk_in_flight());
  };
  for (int i = 0; i < kFibers; ++i) {
    loop.sched.spawn([&, i] {
      char c;
      REQUIRE(await_pipe_read(loop.reactor, pipes[i], &c, 1, IoClass::kDisk) == 1);
      done[i] = true;
    });
  }
  for (int i = 0; i < 5; ++i) step();
  CHECK(loop.reactor.disk_in_flight() == 2);
  CHECK(loop.reactor.in_flight() == 2);
  CHECK(loop.reactor.stats().disk_waits == 4);
  // Fiber i can complete promptly only if it holds a slot when its pipe gets data, which
  // (for i >= 2) requires the slots to have been handed over first come, first served.
  for (int i = 0; i < kFibers; ++i) {
    pipes[i].write_bytes(1);
    for (int n = 0; n < 50 && !done[i]; ++n) step();
    REQUIRE_MESSAGE(done[i], "fiber ", i, " did not get a disk slot in turn");
  }
  REQUIRE(loop.run());
  CHECK(peak == 2);
  CHECK(loop.reactor.disk_in_flight() == 0);
}

TEST_CASE("a linked timeout ends a pending operation with -ETIME at its deadline") {
  IoLoop loop;
  Pipe pipe;
  int result = 0;
  Duration elapsed{};
  loop.sched.spawn([&] {
    char buf[4];
    TimePoint start = Clock::now();
    result = loop.reactor.await_for(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, pipe.read_end, buf, sizeof buf, 0); },
        50ms);
    elapsed = Clock::now() - start;
  });
  REQUIRE(loop.run());
  CHECK(result == -ETIME);
  CHECK(elapsed >= 45ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("an operation that completes before its linked timeout returns its own result") {
  IoLoop loop;
  Pipe pipe;
  pipe.write_bytes(4);
  int result = 0;
  loop.sched.spawn([&] {
    char buf[4];
    result = loop.reactor.await_for(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, pipe.read_end, buf, sizeof buf, 0); },
        10s);
  });
  REQUIRE(loop.run(5s));
  CHECK(result == 4);
}

TEST_CASE("cancel_fd wakes every operation blocked on the descriptor with -ECANCELED") {
  IoLoop loop;
  Pipe pipe;
  std::vector<int> results;
  for (int i = 0; i < 3; ++i) {
    loop.sched.spawn([&] {
      char c;
      results.push_back(await_pipe_read(loop.reactor, pipe, &c, 1));
    });
  }
  loop.sched.spawn([&] {
    this_fiber::sleep_for(20ms);
    loop.reactor.cancel_fd(pipe.read_end);
  });
  REQUIRE(loop.run(5s));
  CHECK(results == std::vector<int>{-ECANCELED, -ECANCELED, -ECANCELED});
}

TEST_CASE("a cancelled operation with a linked timeout reports -ECANCELED, not -ETIME") {
  IoLoop loop;
  Pipe pipe;
  int result = 0;
  loop.sched.spawn([&] {
    char c;
    result = loop.reactor.await_for(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, pipe.read_end, &c, 1, 0); }, 10s);
  });
  loop.sched.spawn([&] {
    this_fiber::sleep_for(20ms);
    loop.reactor.cancel_all();
  });
  REQUIRE(loop.run(5s));
  CHECK(result == -ECANCELED);
}

TEST_CASE("poll with wait returns at its deadline when nothing happens") {
  IoLoop loop;
  loop.reactor.poll(false, std::nullopt);
  TimePoint start = Clock::now();
  CHECK(loop.reactor.poll(true, start + 100ms) == 0);
  Duration elapsed = Clock::now() - start;
  CHECK(elapsed >= 95ms);
  CHECK(elapsed < 1s);
}

TEST_CASE("notify from another thread wakes a sleeping poll promptly") {
  IoLoop loop;
  loop.reactor.poll(false, std::nullopt);
  std::atomic<bool> sleeping_seen{false};
  std::thread waker([&] {
    std::this_thread::sleep_for(50ms);
    sleeping_seen = true;
    loop.reactor.notify();
  });
  TimePoint start = Clock::now();
  loop.reactor.poll(true, start + 5s);
  Duration elapsed = Clock::now() - start;
  waker.join();
  CHECK(sleeping_seen);
  CHECK(elapsed < 1s);  // a lost wake-up would sleep the full 5 s
  CHECK(loop.reactor.notifications_sent() == 1);
}

TEST_CASE("notify never loses a wake-up across many sleep rounds") {
  IoLoop loop;
  constexpr std::uint64_t kRounds = 20000;
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> seen{0};
  loop.reactor.set_pending_work_check([&] { return published.load() != seen.load(); });
  std::thread sender([&] {
    for (std::uint64_t i = 1; i <= kRounds; ++i) {
      published.store(i);
      loop.reactor.notify();
      while (seen.load() != i) std::this_thread::yield();
    }
  });
  int lost = 0;
  while (seen.load() < kRounds) {
    std::uint64_t p = published.load();
    if (p != seen.load()) {
      seen.store(p);
      continue;
    }
    TimePoint start = Clock::now();
    loop.reactor.poll(true, start + 2s);
    if (Clock::now() - start >= 2s && published.load() != seen.load()) ++lost;
  }
  sender.join();
  CHECK(lost == 0);
  CHECK(loop.reactor.stats().sleeps > 0);  // the handshake was exercised, not bypassed
  MESSAGE("sleeps: ", loop.reactor.stats().sleeps,
          ", eventfd writes: ", loop.reactor.notifications_sent());
}
