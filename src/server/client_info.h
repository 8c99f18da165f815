// The one-line description of a client that CLIENT LIST, CLIENT INFO and the server log
// use, in Redis 7's field order (then CLIENT SETINFO's lib-name and lib-ver, as Redis 7.2
// adds them):
//
//   id=7 addr=127.0.0.1:47392 laddr=127.0.0.1:6379 fd=8 name= age=0 idle=0 flags=N db=0
//   sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=486 argv-mem=0 multi-mem=0 rbs=512
//   rbp=512 obl=0 oll=0 omem=0 tot-mem=2086 events=r cmd=client|list user=default
//   redir=-1 resp=2 lib-name= lib-ver=
//
// flags is "b" for a client blocked in a blocking command (BLPOP...), else "N".
// Fields for features cascade does not have (pub/sub, MULTI, tracking redirection) carry
// the value Redis shows for a client not using them. Memory fields report the
// connection's own buffers as they are: qbuf bytes pending in the input buffer, qbuf-free
// the rest of its capacity, rbs the reply array's capacity, obl the reply bytes not yet
// sent, tot-mem Connection::memory_usage(). A connection idle for 2 s has its buffers
// freed (connection.h), so it shows qbuf=0 qbuf-free=0 rbs=0. The line has no trailing newline; CLIENT LIST ends each with
// "\n".
//
// ClientFilter holds CLIENT LIST/KILL's selection options; it matches a connection on the
// connection's shard (call it there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/timer_queue.h"

namespace cascade::server {

class Connection;

std::string describe_client(const Connection& connection, runtime::TimePoint now);

// CLIENT LIST TYPE / CLIENT KILL TYPE values. Every cascade client is a normal one.
enum class ClientType : std::uint8_t { kNormal, kMaster, kReplica, kPubsub };
// "normal", "master", "replica"/"slave", "pubsub" in any case.
std::optional<ClientType> parse_client_type(std::string_view name);

struct ClientFilter {
  std::vector<std::uint64_t> ids;    // empty = any
  std::optional<ClientType> type;
  std::optional<std::string> addr;
  std::optional<std::string> laddr;
  std::optional<std::string> user;
  std::uint64_t skip_id = 0;         // a client never matched (SKIPME), 0 = none

  bool matches(const Connection& connection) const;
};

}  // namespace cascade::server
