// See live_config.h for the publication protocol.
#include "src/server/live_config.h"

namespace cascade::server {

LiveConfig::LiveConfig(Config initial)
    : master_(std::move(initial)),
      current_(std::make_shared<const ServerConfig>(master_.values())) {}

Status LiveConfig::update(const std::function<Status(Config&)>& change) {
  std::lock_guard lock(mutex_);
  Config candidate = master_;
  Status s = change(candidate);
  if (!s) return s;
  master_ = std::move(candidate);
  current_ = std::make_shared<const ServerConfig>(master_.values());
  // Readers that see the new version take the mutex and so see current_ too.
  version_.fetch_add(1, std::memory_order_release);
  return Status::ok();
}

Config LiveConfig::copy() const {
  std::lock_guard lock(mutex_);
  return master_;
}

std::shared_ptr<const ServerConfig> LiveConfig::snapshot(std::uint64_t* version) const {
  std::lock_guard lock(mutex_);
  if (version != nullptr) *version = version_.load(std::memory_order_relaxed);
  return current_;
}

}  // namespace cascade::server
