// See server_state.h.
#include "src/server/server_state.h"

namespace cascade::server {

ServerState::ServerState(Config config, Logger& logger, const CommandTable& commands,
                         std::size_t shard_count, ProcessFacts facts)
    : config_(std::move(config)), logger_(logger), commands_(commands), facts_(std::move(facts)) {
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<ShardState>(static_cast<runtime::ShardId>(i), config_));
  }
  apply_live_settings();
}

bool ServerState::try_admit(std::int64_t maxclients) {
  std::int64_t now = connected_clients_.load(std::memory_order_relaxed);
  do {
    if (now >= maxclients) return false;
  } while (!connected_clients_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  return true;
}

bool ServerState::request_shutdown(ShutdownCause cause) {
  if (shutdown_ == nullptr) return false;
  shutdown_->request(cause);
  return true;
}

void ServerState::apply_live_settings() {
  logger_.set_level(parse_log_level(config_.snapshot()->loglevel));
}

}  // namespace cascade::server
