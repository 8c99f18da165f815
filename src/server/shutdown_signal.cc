// See shutdown_signal.h.
#include "src/server/shutdown_signal.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

namespace cascade::server {

ShutdownSignal::~ShutdownSignal() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

Status ShutdownSignal::open() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    return Status::from_errno(err, "pthread_sigmask");
  }
  signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (signal_fd_ < 0) return Status::from_errno(errno, "signalfd");
  event_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (event_fd_ < 0) return Status::from_errno(errno, "eventfd");
  return Status::ok();
}

void ShutdownSignal::request(ShutdownCause cause) {
  ShutdownCause expected = ShutdownCause::kNone;
  cause_.compare_exchange_strong(expected, cause, std::memory_order_acq_rel);
  std::uint64_t one = 1;
  // The write can only fail if the counter would overflow, which means it is already set.
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
}

ShutdownCause ShutdownSignal::wait() {
  for (;;) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return ShutdownCause::kSigterm;  // cannot wait any more: stop rather than spin
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        request(info.ssi_signo == SIGINT ? ShutdownCause::kSigint : ShutdownCause::kSigterm);
      }
    }
    if (fds[1].revents & POLLIN) {
      std::uint64_t count = 0;
      [[maybe_unused]] ssize_t n = ::read(event_fd_, &count, sizeof count);
    }
    ShutdownCause cause = cause_.load(std::memory_order_acquire);
    if (cause != ShutdownCause::kNone) return cause;
  }
}

std::string_view shutdown_cause_name(ShutdownCause cause) {
  switch (cause) {
    case ShutdownCause::kSigterm: return "SIGTERM";
    case ShutdownCause::kSigint: return "SIGINT";
    case ShutdownCause::kCommand: return "SHUTDOWN";
    case ShutdownCause::kNone: break;
  }
  return "none";
}

}  // namespace cascade::server
