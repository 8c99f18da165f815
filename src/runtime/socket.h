// TCP sockets through the shard's io_uring reactor.
//
// Calls that move data or wait for a peer (accept, connect, recv, send_all, writev_all) are
// io_uring operations on Reactor::current(): the calling fiber suspends until completion.
// Setting a socket up (socket, setsockopt, bind, listen) uses plain syscalls: it happens once
// per listener or connection, not per request.
//
// Names carry the contract: recv() reads *some* bytes (at least one, or 0 at end of stream);
// send_all() and writev_all() return only when everything was sent or an error occurred.
//
// Timeouts. Every waiting call takes an optional timeout: a deadline for the whole call,
// enforced by a linked timeout on each operation; on expiry the call fails with kTimedOut.
// Bytes already sent by a send_all that then times out or fails are not reported (the
// stream is then unusable anyway).
//
// Cancellation. cancel() (from any fiber of the owning shard) makes every call blocked on
// this socket return kCancelled, and every later call fail with kCancelled at once; it does
// not close the descriptor. Shutdown is cancel(), then join the fibers, then close().
//
// Sockets are blocking descriptors (no O_NONBLOCK): io_uring then waits for readiness
// itself instead of reporting EAGAIN. SIGPIPE is never raised (MSG_NOSIGNAL); accepted and
// connected sockets have TCP_NODELAY set.
//
// Concurrency: a Socket belongs to the shard thread that created it. One fiber may recv while
// another sends; two concurrent recvs (or sends) on one socket interleave unpredictably.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "src/runtime/result.h"
#include "src/runtime/timer_queue.h"

namespace cascade::runtime {

class Reactor;

struct ListenOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal; "0.0.0.0" for every interface
  std::uint16_t port = 0;              // 0: the kernel picks one (see Socket::local_port())
  int backlog = 511;
  bool reuse_port = false;             // SO_REUSEPORT: a listener per shard on one port
};

class Socket {
 public:
  Socket() = default;
  ~Socket();  // closes the descriptor synchronously if still open
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A listening socket with SO_REUSEADDR (and SO_REUSEPORT if asked).
  static Result<Socket> listen(const ListenOptions& options);
  static Result<Socket> connect(const std::string& address, std::uint16_t port,
                                std::optional<Duration> timeout = {});

  // Another Socket on the same listening socket (dup(2)), owned by the calling thread's
  // reactor: several shards accept from one listener and the kernel gives each connection
  // to one of them. The one call that may be made on a Socket owned by another thread.
  Result<Socket> duplicate() const;

  // Moving a connected socket to another shard: release() gives up the descriptor without
  // closing it (nothing may be in flight on it); adopt() makes a Socket of it owned by the
  // calling thread's reactor. The descriptor is the same kernel socket: no byte is lost.
  int release();
  static Socket adopt(int fd);

  // Waits for the next connection on a listening socket.
  Result<Socket> accept(std::optional<Duration> timeout = {});
  // Reads some bytes: at least 1, or 0 when the peer closed its side.
  Result<std::size_t> recv(std::span<std::byte> buffer, std::optional<Duration> timeout = {});
  Status send_all(std::span<const std::byte> data, std::optional<Duration> timeout = {});
  Status writev_all(std::span<const iovec> iov, std::optional<Duration> timeout = {});

  // Sends what the socket's buffer takes now, never waiting (sendmsg with MSG_DONTWAIT, a
  // plain syscall): the bytes sent, 0 if none fit; an error only if none went. From any thread, on the descriptor of
  // a connected Socket another thread owns, while its owner has only a recv in flight
  // (the kernel takes a send and a recv on one TCP socket at once); the owner must not
  // close the descriptor before the call returns. For replying from the thread that ran
  // a command (commands/key_batch.h).
  static Result<std::size_t> send_now(int fd, std::span<const iovec> iov);

  // Waits, reading nothing, until the peer hangs up (closes or shuts down its side, or the
  // connection fails): true then; kTimedOut at the deadline; kCancelled after cancel() or
  // interrupt(). Bytes the peer sends meanwhile stay queued for a later recv, so a client
  // blocked in a command (BLPOP) is watched for a disconnect without reading its next
  // commands early.
  Result<bool> wait_hangup(std::optional<TimePoint> deadline);
  // Waits, reading nothing, until a recv would not block (bytes arrived, the peer closed,
  // or the connection failed): true then; kTimedOut at the deadline; kCancelled after
  // cancel() or interrupt(). For a connection that holds no input buffer while idle.
  Result<bool> wait_readable(std::optional<TimePoint> deadline);
  // Ends the calls blocked on this socket now with kCancelled, but unlike cancel() only
  // those: later calls run normally. For waking a fiber parked in wait_hangup.
  void interrupt();

  // Wakes every call blocked on this socket with kCancelled; later calls fail the same way.
  void cancel();
  bool cancelled() const { return cancelled_; }

  // Closes the descriptor (IORING_OP_CLOSE). Operations still in flight are not cancelled
  // by a close: cancel() and wait for them first.
  Status close();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // The locally bound port (the ephemeral one after listen with port 0), or 0 on error.
  std::uint16_t local_port() const;

 private:
  Socket(Reactor* reactor, int fd) : reactor_(reactor), fd_(fd) {}

  template <typename Prep>
  int run(Prep&& prep, std::optional<TimePoint> deadline);
  Status precheck(const char* what) const;
  Status error(int res, const char* what) const;
  // wait_hangup and wait_readable: a poll for `events` that reads nothing.
  Result<bool> poll_for(unsigned events, std::optional<TimePoint> deadline);

  Reactor* reactor_ = nullptr;
  int fd_ = -1;
  bool cancelled_ = false;
};

}  // namespace cascade::runtime
