// ShutdownSignal: how the main thread learns that the server must stop, whether the reason
// is a signal (SIGTERM, SIGINT) or the SHUTDOWN command running on some shard.
//
// Signals are never handled asynchronously: create() blocks SIGTERM and SIGINT in the
// calling thread, which must be the main thread before any other thread exists (threads
// inherit the mask, so no shard thread ever receives them), and reads them from a
// signalfd. A command asks through request(), which stores the cause and writes an
// eventfd. wait() polls both descriptors on the main thread. Nothing here runs in a signal
// handler, so no async-signal-safety rule is at stake.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "src/runtime/result.h"

namespace cascade::server {

enum class ShutdownCause : std::uint8_t { kNone, kSigterm, kSigint, kCommand };

class ShutdownSignal {
 public:
  ShutdownSignal() = default;
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks the signals and opens the descriptors (see the file comment).
  Status open();
  // Any thread: asks the main thread to shut down. The first cause wins.
  void request(ShutdownCause cause);
  // Main thread: blocks until a signal or a request arrives; returns its cause.
  ShutdownCause wait();
  bool requested() const { return cause_.load(std::memory_order_acquire) != ShutdownCause::kNone; }

 private:
  int signal_fd_ = -1;
  int event_fd_ = -1;
  std::atomic<ShutdownCause> cause_{ShutdownCause::kNone};
};

std::string_view shutdown_cause_name(ShutdownCause cause);

}  // namespace cascade::server
