// The keyspace sweeper: one background fiber per shard (Priority::kBackground), started by
// Keyspace::open() and stopped by Keyspace::close(). Each tick (kSweepTick, or at once when
// a flush wakes it) it does three bounded jobs:
//
//   1. Purge: deletes the keys under retired database ids (database_ids.h), in batches of
//      kPurgeBatch keys, one unsynced engine write per batch. The data is already
//      unreachable, so losing a batch to a crash loses nothing: at start every id present in
//      the engine that no database maps to is retired again (this also catches a write a
//      command started before a flush and finished under the old id).
//   2. Active expiry: walks the live metadata records onward from where the last tick
//      stopped (wrapping at the end), examining at most kExpiryExamined records per tick
//      by their headers alone (a record in the value log has its header in the tree, so
//      the walk reads table blocks only, never values),
//      and deletes each expired one under its key's lock (LockedKey::erase_if_expired, so a
//      key rewritten meanwhile is left alone), counting Keyspace::expired_keys(). There is no
//      index of keys with an expiry yet, so a full pass over n keys takes about
//      n / kExpiryExamined ticks; lazy expiry (reads) hides expired keys meanwhile.
//
//   3. Dead collection versions: checks up to kSuspectsPerTick versions the compaction
//      filter queued (keyspace_filter.h) against their metadata records, and deletes the
//      members of each dead one, in batches like the purge (counted: dead_versions()).
//
// The jobs yield between batches (every engine call suspends the fiber anyway), so the
// scheduler's background budget bounds what they take from clients.
#pragma once

#include <chrono>
#include <cstddef>

#include "src/runtime/wait_group.h"

namespace cascade::types {

class Keyspace;

inline constexpr std::chrono::milliseconds kSweepTick{100};
inline constexpr std::size_t kPurgeBatch = 512;
inline constexpr std::size_t kExpiryExamined = 1000;
inline constexpr std::size_t kSuspectsPerTick = 256;

// Spawns the sweeper of `keyspace` on the calling shard; `running` counts it until it ends.
void start_sweeper(Keyspace& keyspace, runtime::WaitGroup& running);

}  // namespace cascade::types
