// Ending a client's WATCHes. A watch lives in the WatchRegistry of its key's shard
// (src/types/watch_registry.h); the client keeps the list of its watched keys
// (ClientState::watched), from which the shards holding its watches follow.
//
// From the client's connection fiber. unwatch_all waits until every shard has forgotten the
// watches (EXEC after DISCARD or UNWATCH must not see them); post_unwatch_all does not wait,
// for a connection that is closing.
#pragma once

#include <vector>

#include "src/runtime/shard.h"
#include "src/server/client_state.h"
#include "src/server/server_state.h"

namespace cascade::server {

// The distinct shards holding `client`'s watches, ascending.
std::vector<runtime::ShardId> watch_shards(const ServerState& server, const ClientState& client);
void unwatch_all(ServerState& server, ClientState& client);
void post_unwatch_all(ServerState& server, ClientState& client);

}  // namespace cascade::server
