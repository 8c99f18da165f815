// See socket.h. Each data call is a loop of Reactor awaits: short sends continue where they
// stopped, EINTR/EAGAIN completions are retried, and a timeout is one absolute deadline
// shared by every operation of the call.
#include "src/runtime/socket.h"

#include <fcntl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

#include "src/runtime/iovec_cursor.h"
#include "src/runtime/reactor.h"

namespace cascade::runtime {
namespace {

bool should_retry(int res) { return res == -EINTR || res == -EAGAIN; }

Reactor& this_reactor() {
  Reactor* r = Reactor::current();
  assert(r != nullptr && "socket IO needs a Reactor on this thread");
  return *r;
}

std::optional<TimePoint> deadline_after(std::optional<Duration> timeout) {
  if (!timeout) return std::nullopt;
  return Clock::now() + *timeout;
}

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Result<SocketAddress> parse_address(const std::string& address, std::uint16_t port) {
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof *v6;
  } else {
    return Status::invalid_argument("not an IP address: " + address);
  }
  return a;
}

Status set_int_option(int fd, int level, int name, const char* what) {
  int one = 1;
  if (::setsockopt(fd, level, name, &one, sizeof one) != 0) {
    return Status::from_errno(errno, std::string("setsockopt ") + what);
  }
  return Status::ok();
}

// A descriptor that closes itself unless released: keeps setup error paths short.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() { if (fd_ >= 0) ::close(fd_); }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

// ---- lifetime -----------------------------------------------------------------------------

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket::Socket(Socket&& other) noexcept
    : reactor_(other.reactor_), fd_(std::exchange(other.fd_, -1)), cancelled_(other.cancelled_) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    reactor_ = other.reactor_;
    fd_ = std::exchange(other.fd_, -1);
    cancelled_ = other.cancelled_;
  }
  return *this;
}

Status Socket::close() {
  if (fd_ < 0) return Status::ok();
  int fd = std::exchange(fd_, -1);
  int res = reactor_->await([&](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
  return res < 0 ? Status::from_errno(res, "close socket " + std::to_string(fd)) : Status::ok();
}

void Socket::interrupt() {
  if (fd_ >= 0 && !cancelled_) reactor_->cancel_fd(fd_);
}

void Socket::cancel() {
  if (cancelled_ || fd_ < 0) return;
  cancelled_ = true;
  reactor_->cancel_fd(fd_);
}

std::uint16_t Socket::local_port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

// ---- helpers ------------------------------------------------------------------------------

template <typename Prep>
int Socket::run(Prep&& prep, std::optional<TimePoint> deadline) {
  return deadline ? reactor_->await_until(prep, *deadline) : reactor_->await(prep);
}

Status Socket::precheck(const char* what) const {
  if (fd_ < 0) return Status::invalid_argument(std::string(what) + ": socket is closed");
  if (cancelled_) return Status::cancelled(std::string(what) + " fd " + std::to_string(fd_) + ": cancelled");
  return Status::ok();
}

Status Socket::error(int res, const char* what) const {
  return Status::from_errno(res, std::string(what) + " fd " + std::to_string(fd_));
}

// ---- setup --------------------------------------------------------------------------------

Result<Socket> Socket::duplicate() const {
  if (fd_ < 0) return Status::invalid_argument("duplicate of a closed socket");
  int copy = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Status::from_errno(errno, "dup of a listening socket");
  return Socket(&this_reactor(), copy);
}

int Socket::release() {
  cancelled_ = false;
  return std::exchange(fd_, -1);
}

Socket Socket::adopt(int fd) { return Socket(&this_reactor(), fd); }

Result<Socket> Socket::listen(const ListenOptions& options) {
  auto addr = parse_address(options.address, options.port);
  if (!addr) return addr.error();
  FdGuard fd(::socket(addr->storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::from_errno(errno, "socket");
  if (Status s = set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"); !s) return s;
  if (options.reuse_port) {
    if (Status s = set_int_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"); !s) return s;
  }
  std::string where = options.address + ":" + std::to_string(options.port);
  if (::bind(fd.get(), addr->get(), addr->length) != 0) return Status::from_errno(errno, "bind " + where);
  if (::listen(fd.get(), options.backlog) != 0) return Status::from_errno(errno, "listen " + where);
  return Socket(&this_reactor(), fd.release());
}

Result<Socket> Socket::connect(const std::string& address, std::uint16_t port,
                               std::optional<Duration> timeout) {
  auto deadline = deadline_after(timeout);
  auto addr = parse_address(address, port);
  if (!addr) return addr.error();
  FdGuard fd(::socket(addr->storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::from_errno(errno, "socket");
  Socket s(&this_reactor(), fd.release());
  int res;
  do {
    res = s.run([&](io_uring_sqe* sqe) {
      io_uring_prep_connect(sqe, s.fd_, addr->get(), addr->length);
    }, deadline);
  } while (res == -EINTR);  // not EAGAIN: a failed connect is not retried
  if (res < 0) return Status::from_errno(res, "connect " + address + ":" + std::to_string(port));
  if (Status st = set_int_option(s.fd_, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"); !st) return st;
  return s;
}

// ---- data ---------------------------------------------------------------------------------

Result<Socket> Socket::accept(std::optional<Duration> timeout) {
  auto deadline = deadline_after(timeout);
  int res;
  do {
    if (Status s = precheck("accept"); !s) return s;
    res = run([&](io_uring_sqe* sqe) {
      io_uring_prep_accept(sqe, fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }, deadline);
    // A connection reset before we took it is the peer's problem, not the listener's.
  } while (should_retry(res) || res == -ECONNABORTED);
  if (res < 0) return error(res, "accept");
  Socket conn(reactor_, res);
  if (Status s = set_int_option(res, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"); !s) return s;
  return conn;
}

Result<std::size_t> Socket::recv(std::span<std::byte> buffer, std::optional<Duration> timeout) {
  auto deadline = deadline_after(timeout);
  int res;
  do {
    if (Status s = precheck("recv"); !s) return s;
    res = run([&](io_uring_sqe* sqe) {
      io_uring_prep_recv(sqe, fd_, buffer.data(), buffer.size(), 0);
    }, deadline);
  } while (should_retry(res));
  if (res < 0) return error(res, "recv");
  return static_cast<std::size_t>(res);
}

Result<bool> Socket::wait_hangup(std::optional<TimePoint> deadline) {
  // POLLRDHUP (with POLLHUP and POLLERR, which poll always reports) and not POLLIN: data
  // arriving does not end the wait, only the peer going away does.
  return poll_for(POLLRDHUP, deadline);
}

Result<bool> Socket::wait_readable(std::optional<TimePoint> deadline) {
  // POLLIN; POLLHUP and POLLERR are always reported, so a hangup ends the wait too and
  // the recv that follows sees it.
  return poll_for(POLLIN, deadline);
}

Result<bool> Socket::poll_for(unsigned events, std::optional<TimePoint> deadline) {
  if (Status s = precheck("poll"); !s) return s;
  int res = run([&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd_, events); }, deadline);
  if (res < 0) return error(res, "poll");
  return true;
}

Status Socket::send_all(std::span<const std::byte> data, std::optional<Duration> timeout) {
  auto deadline = deadline_after(timeout);
  std::size_t done = 0;
  while (done < data.size()) {
    if (Status s = precheck("send"); !s) return s;
    const std::byte* src = data.data() + done;
    std::size_t len = data.size() - done;
    int res = run([&](io_uring_sqe* sqe) {
      io_uring_prep_send(sqe, fd_, src, len, MSG_NOSIGNAL);
    }, deadline);
    if (should_retry(res)) continue;
    if (res < 0) return error(res, "send");
    done += static_cast<std::size_t>(res);
  }
  return Status::ok();
}

Result<std::size_t> Socket::send_now(int fd, std::span<const iovec> iov) {
  IovecCursor cursor(iov);
  std::size_t sent = 0;
  while (!cursor.done()) {
    std::span<const iovec> w = cursor.window();
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(w.data());
    msg.msg_iovlen = w.size();
    const ssize_t res = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (res < 0) {
      if (errno == EINTR) continue;
      // A failure after some bytes went is reported by the caller's next send.
      if (errno == EAGAIN || errno == EWOULDBLOCK || sent > 0) break;
      return Status::from_errno(errno, "sendmsg");
    }
    sent += static_cast<std::size_t>(res);
    cursor.advance(static_cast<std::size_t>(res));
  }
  return sent;
}

Status Socket::writev_all(std::span<const iovec> iov, std::optional<Duration> timeout) {
  auto deadline = deadline_after(timeout);
  IovecCursor cursor(iov);
  while (!cursor.done()) {
    if (Status s = precheck("sendmsg"); !s) return s;
    std::span<const iovec> w = cursor.window();
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(w.data());
    msg.msg_iovlen = w.size();
    int res = run([&](io_uring_sqe* sqe) { io_uring_prep_sendmsg(sqe, fd_, &msg, MSG_NOSIGNAL); },
                  deadline);
    if (should_retry(res)) continue;
    if (res < 0) return error(res, "sendmsg");
    cursor.advance(static_cast<std::size_t>(res));
  }
  return Status::ok();
}

}  // namespace cascade::runtime
