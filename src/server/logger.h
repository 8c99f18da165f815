// Logger: the server log, in Redis's line format so the tools and habits of Redis operators
// carry over:
//
//   <pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level> <message>
//   12345:M 25 Nov 2026 13:13:40.975 * Ready to accept connections
//
// role: 'C' while the configuration is read and the server is set up, 'M' once it serves
// (as Redis marks a master); level: '.' debug, '-' verbose, '*' notice, '#' warning.
// A line below the configured level is dropped before it is formatted.
//
// Threads: any thread may log. Each line is formatted on the caller's stack and written
// with one write(2) under a mutex, so lines never interleave. Logging is for events (a
// client closed for a limit, start-up, shutdown), never per command: a write from a shard
// thread stalls that shard for the duration of the syscall.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>

#include "src/runtime/result.h"

namespace cascade::server {

enum class LogLevel : int { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3, kNothing = 4 };

// "debug", "verbose", "notice", "warning", "nothing" (the loglevel directive's values).
LogLevel parse_log_level(std::string_view name);

class Logger {
 public:
  Logger() = default;
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Appends to `path`, or writes to standard output when it is empty.
  Status open(const std::string& path);

  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  void set_role(char role) { role_.store(role, std::memory_order_relaxed); }
  bool enabled(LogLevel level) const { return level >= this->level() && level != LogLevel::kNothing; }

  void log(LogLevel level, std::string_view message);

  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) { emit(LogLevel::kDebug, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void verbose(fmt::format_string<Args...> f, Args&&... args) { emit(LogLevel::kVerbose, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void notice(fmt::format_string<Args...> f, Args&&... args) { emit(LogLevel::kNotice, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void warning(fmt::format_string<Args...> f, Args&&... args) { emit(LogLevel::kWarning, f, std::forward<Args>(args)...); }

 private:
  template <typename... Args>
  void emit(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
    if (!enabled(level)) return;
    log(level, fmt::format(f, std::forward<Args>(args)...));
  }

  std::atomic<LogLevel> level_{LogLevel::kNotice};
  std::atomic<char> role_{'C'};
  std::mutex write_mutex_;
  int fd_ = 1;
  bool owns_fd_ = false;
};

}  // namespace cascade::server
