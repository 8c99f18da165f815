// See client_watches.h.
#include "src/server/client_watches.h"

#include <algorithm>
#include <span>

#include "src/types/key_slot.h"
#include "src/types/keyspace.h"

namespace cascade::server {

std::vector<runtime::ShardId> watch_shards(const ServerState& server, const ClientState& client) {
  std::vector<runtime::ShardId> shards;
  for (const WatchedKey& w : client.watched) {
    shards.push_back(static_cast<runtime::ShardId>(types::key_shard(w.key, server.shard_count())));
  }
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
  return shards;
}

void unwatch_all(ServerState& server, ClientState& client) {
  if (client.watched.empty()) return;
  const std::vector<runtime::ShardId> shards = watch_shards(server, client);
  const std::uint64_t id = client.id;
  (void)server.runtime().run_on(std::span<const runtime::ShardId>(shards), [&server, id] {
    types::Keyspace* keyspace = server.this_shard().keyspace();
    if (keyspace != nullptr) keyspace->watches().unwatch(id);
  });
  client.watched.clear();
}

void post_unwatch_all(ServerState& server, ClientState& client) {
  if (client.watched.empty()) return;
  const std::uint64_t id = client.id;
  for (runtime::ShardId shard : watch_shards(server, client)) {
    ServerState* state = &server;
    (void)server.runtime().post(shard, [state, id] {
      types::Keyspace* keyspace = state->this_shard().keyspace();
      if (keyspace != nullptr) keyspace->watches().unwatch(id);
    });
  }
  client.watched.clear();
}

}  // namespace cascade::server
