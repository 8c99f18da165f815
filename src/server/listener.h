// Listeners: every shard listens on every `bind` address at `port` with SO_REUSEPORT, so
// the kernel spreads new connections over the shards and a connection lives its whole
// life on the shard that accepted it (no hand-off between threads).
//
// Per shard, on its own thread:
//   open_listeners()   binds the sockets (fails start-up if any address cannot be bound)
//   start_accepting()  spawns one accept fiber per socket; each accepted client gets its
//                      own connection fiber, counted in ShardState::fibers()
// maxclients is enforced at accept, over all shards: a client past the limit is told
// "-ERR max number of clients reached" and closed, as Redis does.
// The accept fibers end when ShardState::begin_stop() cancels the listeners.
#pragma once

#include <string>
#include <vector>

#include "src/runtime/result.h"

namespace cascade::server {

class ServerState;
class ShardState;
struct ServerConfig;

// The addresses of a `bind` value ("127.0.0.1 ::1"). A leading "-" (Redis's "skip if not
// available") is accepted and dropped; "*" and "::*" mean every IPv4 and IPv6 address.
std::vector<std::string> bind_addresses(const std::string& bind);

Status open_listeners(ShardState& shard, const ServerConfig& config);
void start_accepting(ServerState& server, ShardState& shard);

}  // namespace cascade::server
