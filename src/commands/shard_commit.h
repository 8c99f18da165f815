// Committing writes prepared on one or more shards as one atomic step: the last step of a
// multi-key command (transaction.h) and of MULTI/EXEC (exec_transaction.h).
//
//   - one writing shard: one engine batch there, synced as appendfsync says;
//   - several: the decision-record protocol of src/types/multi_shard_log.h. Under always
//     the first shard's batch carries the decision record (every other shard's part) and
//     is synced, then each other part is written (not synced) with its applied marker.
//     Under everysec and no every writer's batch carries its marker and a copy of the
//     decision listing the others' parts, none synced: the first one written to the page
//     cache, the others left in their WALs' tails. Later, in batches off the client's
//     path, the parts are synced and the records and markers deleted. A crash that leaves
//     any decision record is completed by recovery (src/server/multi_shard_recovery.h),
//     one that leaves none leaves nothing: the write is whole or absent on every shard.
//
// The caller holds the stripes of every key written until this returns, so no client sees
// one shard's part and misses another's (the stripes of a multi-shard write are fenced).
//
// Crash testing: CASCADE_CRASH_POINT=multi-shard-before-decision | multi-shard-after-decision
// | multi-shard-after-part makes the process SIGKILL itself at that point of the next
// multi-shard write (tests/integration/test_multi_shard_crash.py); under everysec,
// multi-shard-part-without-decision writes every part but the first shard's batch (to the
// page cache) and dies, as a power loss that kept only the other shards' WALs could;
// CASCADE_DEBUG_CLEANUP_PAUSE_MS=<n> lets the clean-up gather n ms (tests that count syncs);
// CASCADE_DEBUG_PART_DELAY_MS=<n> holds every multi-shard write n ms between its decision
// and its other parts (tests/integration/test_transactions.py: readers must not see it).
#pragma once

#include <functional>
#include <span>

#include "engine/write_batch.h"
#include "src/runtime/result.h"
#include "src/runtime/shard.h"
#include "src/server/server_state.h"

namespace cascade::commands {

struct ShardBatch {
  runtime::ShardId shard = 0;
  engine::WriteBatch batch;
};

// What a caller may fold into the commit's own cross-shard calls.
struct CommitSteps {
  // Step 0 of multi_shard_log.h (every writer's WAL synced through what it had
  // acknowledged) was taken by the caller on every writer, after taking their stripes and
  // reading the keys, before deciding: every write acknowledged before the transaction
  // began, and every write it read, is then durable, and that is what a late part must
  // not overtake. (A write acknowledged on such a shard after that,
  // on other keys, was concurrent with this one and may be lost with the shard's unsynced
  // tail while recovery completes this one: the freedom independent single-key writes on
  // two shards already have under everysec.)
  bool acknowledged_synced = false;
  // Run on a writer's shard right after its batch was written (`written`) or failed, in
  // the same call, so the caller can release that shard's stripes there instead of in a
  // round trip of its own: the only writer's, or each part's. Not the coordinator's of a
  // multi-shard write: its own part goes in first, with a decision record, and its stripes must
  // stay held until every other part is in, or a reader that ignores fences (KEYS, SCAN,
  // DBSIZE) could read a coordinator's key new and then miss another shard's; the caller
  // releases them after the commit returns (no round trip when it is the caller's shard).
  std::function<void(runtime::ShardId shard, bool written)> after_write;
  // In place of after_write, for a batch whose stripes must stay held until the commit
  // returns (the coordinator's, and a part written with copies: multi_shard_log.h, step
  // 1): the caller may do there what needs no release (tell the keys' watchers and
  // blocked clients), and releases the stripes afterwards.
  std::function<void(runtime::ShardId shard, bool written)> after_write_held;
};

// `writers`: distinct shards in ascending id order, each batch non-empty (none: no write).
// From the connection's fiber; the batches are written on their shards (the decision
// record and markers are added to them).
Status commit_shard_batches(server::ServerState& server, std::span<ShardBatch* const> writers,
                            bool sync, const CommitSteps& steps = {});

}  // namespace cascade::commands
