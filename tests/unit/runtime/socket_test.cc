#include "src/runtime/socket.h"

#include <doctest/doctest.h>

#include "tests/support/test_seed.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade::runtime;
using namespace std::chrono_literals;
using cascade::runtime::testing::IoLoop;

namespace {

// CASCADE_SEED=<n> replays a run; otherwise a fresh seed, printed so a failure can be replayed.

Socket listen_loopback() {
  auto l = Socket::listen({});
  REQUIRE_MESSAGE(l.has_value(), l.status().to_string());
  REQUIRE(l->local_port() != 0);
  return std::move(*l);
}

std::span<std::byte> bytes_of(std::string& s) { return {reinterpret_cast<std::byte*>(s.data()), s.size()}; }

}  // namespace

TEST_CASE("a TCP echo through the reactor with random split sizes returns every byte in order") {
  std::uint64_t seed = cascade::testing::test_seed("socket echo");
  std::printf("socket echo test: CASCADE_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto random_size = [&rng](std::size_t max) { return std::size_t{1} + rng() % max; };

  std::string sent(1 << 20, '\0');
  for (char& c : sent) c = static_cast<char>(rng());
  std::string received;

  IoLoop loop;
  Socket listener = listen_loopback();
  std::uint16_t port = listener.local_port();

  loop.sched.spawn([&] {  // the echo server: recv some, send it all back, until EOF
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    std::vector<std::byte> buf(65536);
    for (;;) {
      auto n = conn->recv(std::span(buf).first(random_size(buf.size())));
      REQUIRE_MESSAGE(n.has_value(), n.status().to_string());
      if (*n == 0) break;
      REQUIRE(conn->send_all(std::span(buf).first(*n)).is_ok());
    }
    REQUIRE(conn->close().is_ok());
  });
  loop.sched.spawn([&] {  // the client: sends in random pieces while another fiber reads
    auto client = Socket::connect("127.0.0.1", port);
    REQUIRE_MESSAGE(client.has_value(), client.status().to_string());
    FiberHandle reader = loop.sched.spawn([&] {
      std::vector<std::byte> buf(65536);
      while (received.size() < sent.size()) {
        auto n = client->recv(std::span(buf).first(random_size(buf.size())));
        REQUIRE(n.has_value());
        REQUIRE(*n > 0);
        received.append(reinterpret_cast<const char*>(buf.data()), *n);
      }
    });
    std::span<std::byte> rest = bytes_of(sent);
    while (!rest.empty()) {
      std::size_t piece = std::min(rest.size(), random_size(100000));
      REQUIRE(client->send_all(rest.first(piece)).is_ok());
      rest = rest.subspan(piece);
    }
    reader.join();
    REQUIRE(client->close().is_ok());
  });
  REQUIRE(loop.run());
  REQUIRE(received.size() == sent.size());
  CHECK(received == sent);
}

TEST_CASE("writev_all sends every byte of several buffers") {
  IoLoop loop;
  Socket listener = listen_loopback();
  std::string a(300000, 'a'), b = "middle", c(70000, 'c');
  std::string got;
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    std::vector<std::byte> buf(8192);
    for (;;) {
      auto n = conn->recv(buf);
      REQUIRE(n.has_value());
      if (*n == 0) break;
      got.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    iovec iov[] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
    REQUIRE(client->writev_all(iov).is_ok());
    REQUIRE(client->close().is_ok());
  });
  REQUIRE(loop.run());
  CHECK(got == a + b + c);
}

TEST_CASE("send_now from another thread takes what fits beside a recv in flight, and never waits") {
  IoLoop loop;
  Socket listener = listen_loopback();
  std::string big(16 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::string got_by_server, got_by_client;
  std::size_t first = 0, second = 0;
  std::atomic<bool> sends_done{false};
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    const int fd = conn->fd();
    // The owner's recv is in flight while another thread sends on the same descriptor.
    FiberHandle reader = loop.sched.spawn([&] {
      std::byte buf[16];
      auto n = conn->recv(buf);
      REQUIRE(n.has_value());
      got_by_server.assign(reinterpret_cast<const char*>(buf), *n);
    });
    this_fiber::sleep_for(5ms);  // the reader's recv is submitted and in flight
    bool sends_ok = false;
    std::thread sender([&] {
      iovec iov[] = {{big.data(), big.size()}};
      auto n = Socket::send_now(fd, iov);
      if (n.has_value()) {
        first = *n;
        // The peer reads nothing meanwhile: the socket's buffer is full, nothing more fits.
        iovec rest[] = {{big.data() + first, big.size() - first}};
        auto m = Socket::send_now(fd, rest);
        sends_ok = m.has_value();
        if (sends_ok) second = *m;
      }
      sends_done.store(true);
    });
    sender.join();
    CHECK(sends_ok);
    reader.join();
    REQUIRE(conn->close().is_ok());
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    // Give the server's sends time to fill the buffers before reading.
    while (!sends_done.load()) this_fiber::sleep_for(1ms);
    std::string x = "x";
    REQUIRE(client->send_all(bytes_of(x)).is_ok());
    std::vector<std::byte> buf(1 << 16);
    for (;;) {
      auto n = client->recv(buf);
      REQUIRE(n.has_value());
      if (*n == 0) break;
      got_by_client.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    REQUIRE(client->close().is_ok());
  });
  REQUIRE(loop.run());
  CHECK(got_by_server == "x");
  CHECK(first > 0);
  CHECK(first < big.size());
  CHECK(second == 0);
  CHECK(got_by_client.size() == first);
  CHECK(got_by_client == big.substr(0, first));
}

TEST_CASE("send_now to a peer that has gone reports the error and raises no SIGPIPE") {
  IoLoop loop;
  Socket listener = listen_loopback();
  cascade::Result<std::size_t> sent = std::size_t{0};
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    std::byte buf[16];
    auto n = conn->recv(buf);  // the peer's close
    REQUIRE(n.has_value());
    CHECK(*n == 0);
    std::string data(1 << 16, 'z');
    iovec iov[] = {{data.data(), data.size()}};
    // The first send after the peer's close may be taken (the reset comes back for it);
    // later ones fail.
    for (int i = 0; i < 100 && sent.has_value(); ++i) {
      sent = Socket::send_now(conn->fd(), iov);
      if (sent.has_value()) this_fiber::sleep_for(1ms);
    }
    REQUIRE(conn->close().is_ok());
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    REQUIRE(client->close().is_ok());
  });
  REQUIRE(loop.run());
  REQUIRE_FALSE(sent.has_value());
  const int err = sent.error().sys_errno();
  CHECK((err == EPIPE || err == ECONNRESET));
}

TEST_CASE("recv returns 0 when the peer closes the connection") {
  IoLoop loop;
  Socket listener = listen_loopback();
  std::optional<std::size_t> got;
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    REQUIRE(conn->close().is_ok());
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    std::byte buf[16];
    auto n = client->recv(buf);
    REQUIRE(n.has_value());
    got = *n;
  });
  REQUIRE(loop.run());
  CHECK(got == std::optional<std::size_t>(0));
}

TEST_CASE("recv with a timeout fails with TimedOut when no data arrives in time") {
  IoLoop loop;
  Socket listener = listen_loopback();
  cascade::Status status;
  Duration elapsed{};
  Socket server_side;
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    server_side = std::move(*conn);  // keeps the connection open, silent
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    std::byte buf[16];
    TimePoint start = Clock::now();
    auto n = client->recv(buf, 100ms);
    elapsed = Clock::now() - start;
    REQUIRE_FALSE(n.has_value());
    status = n.error();
  });
  REQUIRE(loop.run(10s));
  CHECK(status.is_timed_out());
  CHECK(elapsed >= 95ms);
  CHECK(elapsed < 3s);
}

TEST_CASE("recv blocked on a socket wakes with Cancelled when the socket is cancelled") {
  IoLoop loop;
  Socket listener = listen_loopback();
  Socket server_side;
  Socket client;
  cascade::Status first, second;
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    server_side = std::move(*conn);
  });
  loop.sched.spawn([&] {
    auto c = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(c.has_value());
    client = std::move(*c);
    std::byte buf[16];
    auto n = client.recv(buf, 10s);  // the timeout must not be what ends it
    REQUIRE_FALSE(n.has_value());
    first = n.error();
    auto again = client.recv(buf);
    REQUIRE_FALSE(again.has_value());
    second = again.error();
  });
  loop.sched.spawn([&] {
    this_fiber::sleep_for(30ms);
    client.cancel();
  });
  REQUIRE(loop.run(5s));
  CHECK(first.is_cancelled());
  CHECK(second.is_cancelled());  // later calls on a cancelled socket fail at once
  CHECK(client.cancelled());
}

TEST_CASE("wait_hangup ignores data, returns when the peer closes, and interrupt wakes it once") {
  IoLoop loop;
  Socket listener = listen_loopback();
  Socket server_side;
  cascade::Status interrupted;
  bool hung_up = false;
  std::string still_queued(5, '\0');
  Duration elapsed{};
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    server_side = std::move(*conn);
    auto first = server_side.wait_hangup(Clock::now() + 10s);
    REQUIRE_FALSE(first.has_value());
    interrupted = first.error();
    TimePoint start = Clock::now();
    auto second = server_side.wait_hangup(Clock::now() + 10s);  // the socket still works
    elapsed = Clock::now() - start;
    REQUIRE(second.has_value());
    hung_up = *second;
    auto n = server_side.recv(bytes_of(still_queued));  // the data sent meanwhile is there
    REQUIRE(n.has_value());
    still_queued.resize(*n);
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    this_fiber::sleep_for(30ms);
    server_side.interrupt();
    std::string hello = "hello";
    REQUIRE(client->send_all(std::as_bytes(std::span(hello))).is_ok());
    this_fiber::sleep_for(50ms);
    REQUIRE(client->close().is_ok());
  });
  REQUIRE(loop.run(5s));
  CHECK(interrupted.is_cancelled());
  CHECK_FALSE(server_side.cancelled());
  CHECK(hung_up);
  CHECK(elapsed >= 40ms);  // data alone did not end the wait
  CHECK(still_queued == "hello");
}

TEST_CASE("wait_hangup times out at its deadline") {
  IoLoop loop;
  Socket listener = listen_loopback();
  Socket server_side, client_side;
  cascade::Status status;
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    server_side = std::move(*conn);
    auto r = server_side.wait_hangup(Clock::now() + 50ms);
    REQUIRE_FALSE(r.has_value());
    status = r.error();
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    client_side = std::move(*client);
  });
  REQUIRE(loop.run(5s));
  CHECK(status.is_timed_out());
}

TEST_CASE("wait_readable returns when bytes arrive, reads nothing, and times out or is interrupted") {
  IoLoop loop;
  Socket listener = listen_loopback();
  Socket server_side;
  cascade::Status timed_out, interrupted;
  bool ready = false;
  Duration waited{};
  std::string got(16, '\0');
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE(conn.has_value());
    server_side = std::move(*conn);
    auto first = server_side.wait_readable(Clock::now() + 20ms);  // nothing sent yet
    REQUIRE_FALSE(first.has_value());
    timed_out = first.error();
    auto second = server_side.wait_readable(Clock::now() + 10s);
    REQUIRE_FALSE(second.has_value());
    interrupted = second.error();
    TimePoint start = Clock::now();
    auto third = server_side.wait_readable(Clock::now() + 10s);
    waited = Clock::now() - start;
    REQUIRE(third.has_value());
    ready = *third;
    auto n = server_side.recv(bytes_of(got));  // the bytes are still there for recv
    REQUIRE(n.has_value());
    got.resize(*n);
  });
  loop.sched.spawn([&] {
    auto client = Socket::connect("127.0.0.1", listener.local_port());
    REQUIRE(client.has_value());
    this_fiber::sleep_for(60ms);
    server_side.interrupt();
    this_fiber::sleep_for(40ms);
    std::string ping = "PING\r\n";
    REQUIRE(client->send_all(std::as_bytes(std::span(ping))).is_ok());
    this_fiber::sleep_for(20ms);
    REQUIRE(client->close().is_ok());
  });
  REQUIRE(loop.run(5s));
  CHECK(timed_out.is_timed_out());
  CHECK(interrupted.is_cancelled());
  CHECK_FALSE(server_side.cancelled());
  CHECK(ready);
  CHECK(waited >= 20ms);  // it waited for the bytes
  CHECK(got == "PING\r\n");
}

TEST_CASE("accept blocked on a listener wakes with Cancelled at shutdown") {
  IoLoop loop;
  Socket listener = listen_loopback();
  cascade::Status status;
  loop.sched.spawn([&] {
    auto conn = listener.accept();
    REQUIRE_FALSE(conn.has_value());
    status = conn.error();
  });
  loop.sched.spawn([&] {
    this_fiber::sleep_for(30ms);
    listener.cancel();
  });
  REQUIRE(loop.run(5s));
  CHECK(status.is_cancelled());
  CHECK(listener.close().is_ok());
}

TEST_CASE("listeners on port 0 get an ephemeral port that SO_REUSEPORT lets them share") {
  IoLoop loop;
  ListenOptions options;
  options.reuse_port = true;
  auto first = Socket::listen(options);
  REQUIRE(first.has_value());
  options.port = first->local_port();
  CHECK(options.port != 0);
  auto second = Socket::listen(options);
  CHECK_MESSAGE(second.has_value(), second.status().to_string());
  ListenOptions exclusive;
  exclusive.port = options.port;
  auto third = Socket::listen(exclusive);
  REQUIRE_FALSE(third.has_value());
  CHECK(third.error().sys_errno() == EADDRINUSE);
  CHECK_FALSE(Socket::listen({.address = "not-an-ip"}).has_value());
}

TEST_CASE("connect to a port nobody listens on fails with the errno") {
  IoLoop loop;
  std::uint16_t port;
  {
    Socket l = listen_loopback();
    port = l.local_port();
  }
  auto conn = Socket::connect("127.0.0.1", port);  // outside a fiber: blocks the thread
  REQUIRE_FALSE(conn.has_value());
  CHECK(conn.error().sys_errno() == ECONNREFUSED);
  CHECK(conn.error().message().find("connect 127.0.0.1:") != std::string::npos);
}
