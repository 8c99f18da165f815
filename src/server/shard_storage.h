// Each shard's storage: the engine options the configuration asks for, opening the
// shard's engine in `dir/shard-NNN/` as its Keyspace, and closing it.
//
// Durability, from the Redis directives:
//   appendfsync always   every write is acknowledged only once its WAL group is synced
//                        (WriteOptions::sync = true; the WAL groups concurrent writers, so
//                        one fdatasync covers many).
//   appendfsync everysec every write is acknowledged once its WAL group is written (handed
//                        to the kernel, as Redis write(2)s its AOF before replying: a
//                        process crash loses nothing acknowledged), not synced; the engine's
//                        WAL syncs what was written at most a second ago
//                        (WalSyncPolicy::kEverySec runs that fiber inside the engine, so the
//                        server needs none of its own).
//   appendfsync no       nothing is synced but segment switches and close (kNo).
//   appendonly no        treated as appendfsync no.
// The WAL policy is chosen at open; CONFIG SET appendfsync changes live whether each write
// syncs (always versus the others), and the background once-a-second sync, with writes
// acknowledged only once written, stays as opened (on unless the server started with `no`)
// until the next start. memtable-size,
// block-cache-size and min-blob-size are per shard and, like the WAL geometry, apply when
// the engine opens.
#pragma once

#include "engine/db_options.h"
#include "src/runtime/result.h"
#include "src/server/config.h"
#include "src/server/logger.h"

namespace cascade::server {

class ShardState;

engine::DBOptions engine_options(const ServerConfig& config, Logger& logger);
// Does each write wait for its WAL sync under this configuration?
bool sync_every_write(const ServerConfig& config);

// Hands the live storage directives (memtable-size, block-cache-size, min-blob-size,
// compaction-rate-limit) to the shard's engine; CONFIG SET calls it on every shard, on
// that shard. A shard without storage (not open yet, or closing) ignores it: it opens with
// the configuration current then.
void apply_live_storage_settings(ShardState& shard, const ServerConfig& config);

// On the shard's own thread, in a fiber: opens its engine and attaches it to `shard`.
// The error names the shard and its directory.
Status open_shard_storage(ShardState& shard, const ServerConfig& config, Logger& logger);
// On the shard's own thread, once no command can reach it: closes the engine (logged).
void close_shard_storage(ShardState& shard, Logger& logger);

}  // namespace cascade::server
