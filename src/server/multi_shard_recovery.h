// Finishing multi-shard writes a crash interrupted (src/types/multi_shard_log.h, the
// protocol and why it is safe).
//
// recover_multi_shard_writes() runs at start-up once every shard's engine is open and
// before any client can connect, from the thread that starts the server:
//   1. every shard lists its decision records and the highest transaction id among its
//      records of both kinds;
//   2. for each decision, in transaction-id order (the order those writes took their locks,
//      so two unfinished writes to one key land in the order they were made), every shard
//      named in it that lacks the decision's applied marker writes its part with the marker,
//      synced;
//   3. every shard deletes its decision records (synced), and only then every shard deletes
//      its markers: a marker must outlive its decision record;
//   4. transaction ids restart past every id seen (and past the clock in microseconds, so
//      they keep increasing even when no record was left).
// A corrupt decision record stops the start with Corruption: guessing would break the
// all-or-nothing promise.
#pragma once

#include "src/runtime/result.h"

namespace cascade::server {

class ServerState;

Status recover_multi_shard_writes(ServerState& state);

}  // namespace cascade::server
