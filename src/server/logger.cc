// See logger.h for the line format and the threading rule.
#include "src/server/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace cascade::server {
namespace {

constexpr char kLevelMarks[] = {'.', '-', '*', '#'};

// "25 Nov 2026 13:13:40.975" for the current wall-clock time, local zone.
std::size_t format_timestamp(char* out, std::size_t size) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  std::size_t n = std::strftime(out, size, "%d %b %Y %H:%M:%S", &local);
  n += static_cast<std::size_t>(std::snprintf(out + n, size - n, ".%03d",
                                              static_cast<int>(now.tv_nsec / 1000000)));
  return n;
}

}  // namespace

LogLevel parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "verbose") return LogLevel::kVerbose;
  if (name == "warning") return LogLevel::kWarning;
  if (name == "nothing") return LogLevel::kNothing;
  return LogLevel::kNotice;
}

Logger::~Logger() {
  if (owns_fd_) ::close(fd_);
}

Status Logger::open(const std::string& path) {
  if (path.empty()) return Status::ok();
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "can't open the log file '" + path + "'");
  std::lock_guard lock(write_mutex_);
  if (owns_fd_) ::close(fd_);
  fd_ = fd;
  owns_fd_ = true;
  return Status::ok();
}

void Logger::log(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  char stamp[64];
  const std::size_t stamp_len = format_timestamp(stamp, sizeof stamp);
  std::string line = fmt::format("{}:{} {} {} {}\n", ::getpid(), role_.load(std::memory_order_relaxed),
                                 std::string_view(stamp, stamp_len),
                                 kLevelMarks[static_cast<int>(level)], message);
  std::lock_guard lock(write_mutex_);
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to say it
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace cascade::server
