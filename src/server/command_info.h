// How COMMAND describes a CommandSpec, in Redis 7.0's reply shapes (checked byte for byte
// against redis-server 7.0.15, RESP2 and RESP3).
//
// COMMAND INFO entry, an array of 10:
//   1 name (bulk)   2 arity (integer)   3 flags (set of simple strings)
//   4 first key, 5 last key, 6 key step (integers)
//   7 ACL categories (set of simple strings, "@read"...)   8 tips (set of bulk strings)
//   9 key specifications (set of maps: flags, begin_search {type index, spec {index}},
//     find_keys {type range, spec {lastkey, keystep, limit}})
//   10 subcommands: an array of entries like this one; an empty *set* when there are none
//      (Redis's quirk, visible only in RESP3)
//
// COMMAND DOCS value for one command, a map: summary, since, group, complexity (bulk
// strings), then subcommands (a map from full name to such a map) for containers.
// redis-cli reads this at start-up to build its help and hints, so the keys it expects
// (summary, since, group) are always present.
#pragma once

#include "resp/reply_writer.h"
#include "src/server/command_table.h"

namespace cascade::server {

void write_command_info(resp::ReplyWriter& reply, const CommandSpec& spec);
void write_command_docs(resp::ReplyWriter& reply, const CommandSpec& spec);

}  // namespace cascade::server
