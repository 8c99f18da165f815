// Listeners: shard 0 binds one listening socket per `bind` address at `port`; every other
// shard accepts from a duplicate of it, so the kernel hands each new connection to one
// shard and a connection lives its whole life there (no hand-off between threads).
// SO_REUSEPORT is deliberately not used: it would let a second server of the same user
// bind the same port and silently take a share of the connections.
//
// On each shard's own thread:
//   open_listeners()   shard 0: binds the sockets (fails start-up if any cannot be bound)
//   share_listeners()  the other shards: duplicates of shard 0's sockets
//   start_accepting()  spawns one accept fiber per socket; each accepted client gets its
//                      own connection fiber, counted in ShardState::fibers(); and the
//                      shard's idle trimmer: once a second it frees the buffers of the
//                      connections that have waited for input 2 s or more
//                      (ShardState::trim_idle_connections), until begin_stop()
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
Status share_listeners(ShardState& shard, ShardState& first);
void start_accepting(ServerState& server, ShardState& shard);

}  // namespace cascade::server
