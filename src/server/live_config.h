// LiveConfig: the running server's configuration, shared by every shard, changed by
// CONFIG SET and read on every client batch.
//
// Concurrency contract:
//   - The master Config is guarded by a mutex; update() applies a change to a copy and
//     commits it only if every step succeeded, so CONFIG SET of several directives is all
//     or nothing, as in Redis 7. Each commit publishes an immutable ServerConfig snapshot
//     and bumps an atomic version.
//   - Readers on a shard hold a ConfigView: get() compares the version (one acquire load)
//     and takes the mutex only when the configuration changed since its last look. So the
//     hot path takes no lock and allocates nothing; a change reaches each shard at its next
//     read. A reference from get() stays valid until the next get() on that view; do not
//     keep it across a fiber suspension (another fiber's get() may refresh the view).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "src/runtime/result.h"
#include "src/server/config.h"

namespace cascade::server {

class LiveConfig {
 public:
  explicit LiveConfig(Config initial);
  LiveConfig(const LiveConfig&) = delete;
  LiveConfig& operator=(const LiveConfig&) = delete;

  // Runs `change` on a copy of the master configuration and commits the copy if it
  // returns ok. Serialized with other updates. Any thread.
  Status update(const std::function<Status(Config&)>& change);

  // A copy of the master configuration (CONFIG GET, CONFIG REWRITE). Any thread.
  Config copy() const;

  std::shared_ptr<const ServerConfig> snapshot(std::uint64_t* version = nullptr) const;
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  Config master_;
  std::shared_ptr<const ServerConfig> current_;
  std::atomic<std::uint64_t> version_{1};
};

// One shard's (or one thread's) cached view of a LiveConfig. Not thread-safe itself.
class ConfigView {
 public:
  explicit ConfigView(const LiveConfig& live) : live_(&live) { refresh(); }

  const ServerConfig& get() {
    if (live_->version() != version_) refresh();
    return *current_;
  }

 private:
  void refresh() { current_ = live_->snapshot(&version_); }

  const LiveConfig* live_;
  std::shared_ptr<const ServerConfig> current_;
  std::uint64_t version_ = 0;
};

}  // namespace cascade::server
