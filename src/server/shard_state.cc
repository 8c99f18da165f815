// See shard_state.h.
#include "src/server/shard_state.h"

#include "src/server/connection.h"

namespace cascade::server {

void ShardStats::add(const ShardStats& o) {
  connections_received += o.connections_received;
  rejected_connections += o.rejected_connections;
  commands_processed += o.commands_processed;
  error_replies += o.error_replies;
  net_input_bytes += o.net_input_bytes;
  net_output_bytes += o.net_output_bytes;
  reads_processed += o.reads_processed;
  writes_processed += o.writes_processed;
  moved_connections += o.moved_connections;
  batches_replied_from_key_shard += o.batches_replied_from_key_shard;
  expired_keys += o.expired_keys;
}

Connection* ShardState::find_connection(std::uint64_t id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

void ShardState::begin_stop() {
  stopping_ = true;
  stop_event_.set();
  for (runtime::Socket& listener : listeners_) listener.cancel();
  // request_close() may cancel a socket but never re-enters the registry, so iterating
  // while connections keep their entries is safe (they leave it from their own fibers).
  for (auto& [id, connection] : connections_) connection->request_close();
}

std::size_t ShardState::trim_idle_connections(runtime::TimePoint now,
                                              runtime::Duration idle_after) {
  std::size_t trimmed = 0;
  // trim_if_idle() never re-enters the registry (it may interrupt a recv, whose fiber
  // runs later), so iterating is safe.
  for (auto& [id, connection] : connections_) trimmed += connection->trim_if_idle(now, idle_after);
  return trimmed;
}

void ShardState::force_close_connections() {
  for (auto& [id, connection] : connections_) connection->force_close();
}

}  // namespace cascade::server
