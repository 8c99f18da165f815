// The records that make a write spanning several shards survive a crash whole (DESIGN.md,
// "Multi-shard writes survive crashes whole", the Calvin-like way; the bytes are also in
// src/types/FORMAT.md, which changes with this file).
//
// Protocol. A multi-shard write has a transaction id (unique for the data directory's life,
// increasing in the order such writes take their locks) and a coordinator: one of the
// shards it writes to (the server picks the client connection's shard when it is one, so
// the decision costs no round trip; else the lowest). Nothing below depends on which.
//   0. When writes are acknowledged before they are durable (appendfsync everysec or no),
//      every other shard first makes durable the writes it acknowledged unsynced: each
//      shard's writes acknowledged before this one are then durable before its decision
//      is. The parts of earlier multi-shard writes are not among them (their decisions
//      hold them), so a shard that has taken nothing else since its last sync syncs nothing.
//      The server takes this step as it takes the write's key locks on each shard: what
//      must not be lost is what was acknowledged before the write began (anything a client
//      could have seen before sending it); a write acknowledged on that shard afterwards,
//      on other keys, was concurrent with this one and may be lost with the shard's tail.
//   1. The coordinator writes ONE engine batch, synced: its own part of the write plus the
//      decision record, which holds every other shard's part. Once it is durable the write
//      will happen whole: this is the decision point.
//   2. Every other shard writes its part in one batch together with an applied marker
//      naming the transaction; written to its WAL, not synced (whatever appendfsync says):
//      the decision already makes the write durable, and recovery writes a part its
//      shard's WAL lost. The client is answered after this step.
//   3. Later, in batches off the client's path, the coordinator has the other shards sync
//      their WALs (the parts are then durable), deletes the decision records, synced, and
//      then each other shard deletes its markers (a marker must outlive its decision
//      record, or recovery would write the part a second time over newer data).
// Recovery (src/server/multi_shard_recovery.h), before any client is served: for every
// decision record left, in transaction-id order, each shard whose marker is missing writes
// its part and the marker; then every decision record and every marker is deleted.
// A shard's WAL is replayed as a prefix, so a missing marker means nothing that shard wrote
// after the part survived either, and writing the part late cannot overwrite a newer value;
// step 0 means everything it acknowledged before the part did survive, so the late part
// leaves no hole in that shard's order of writes.
//
// Both record kinds live in the internal database kInternalDb (never a SELECTable number),
// each kind in its own space, so they are ranges that key scans of real databases never see.
//
// Pure encoding: no IO, safe from any thread. The numbers here never change meaning.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/result.h"

namespace cascade::types {

inline constexpr std::uint32_t kInternalDb = 0xFFFFFFFFu;
inline constexpr std::uint8_t kDecisionSpace = 0x03;
inline constexpr std::uint8_t kAppliedMarkerSpace = 0x04;
inline constexpr std::uint8_t kDecisionFormat = 1;

// One shard's share of a multi-shard write: an encoded engine WriteBatch (engine/FORMAT.md,
// "Write batch"; its sequence is 0 and ignored).
struct ShardPart {
  std::uint32_t shard = 0;
  std::string batch;
};

struct Decision {
  std::uint64_t txid = 0;
  std::uint32_t coordinator = 0;
  std::vector<ShardPart> parts;  // every written shard but the coordinator, by shard id
};

// Engine key of the decision record of `txid`: db | kDecisionSpace | txid (u64 BE).
std::string decision_key(std::uint64_t txid);
// Engine key of shard-local marker of `txid` decided on `coordinator`:
// db | kAppliedMarkerSpace | coordinator (u32 BE) | txid (u64 BE).
std::string applied_marker_key(std::uint32_t coordinator, std::uint64_t txid);
// The prefixes every record of one kind starts with (for scans).
std::string decision_prefix();
std::string applied_marker_prefix();
// The txid a marker key names; Corruption if the key is not one.
Result<std::uint64_t> marker_txid(std::string_view key);

std::string encode_decision(const Decision& decision);
// Corruption when truncated, of another format, or followed by stray bytes.
Result<Decision> decode_decision(std::string_view bytes);

}  // namespace cascade::types
