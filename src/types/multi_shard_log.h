// The records that make a write spanning several shards survive a crash whole (DESIGN.md,
// "Multi-shard writes survive crashes whole", the Calvin-like way; the bytes are also in
// src/types/FORMAT.md, which changes with this file).
//
// Protocol. A multi-shard write has a transaction id (unique for the data directory's life,
// increasing in the order such writes take their locks) and a coordinator: one of the
// shards it writes to (the server picks the client connection's shard when it is one, so
// its batch costs no round trip; else the lowest). Nothing below depends on which. A shard
// holding a decision record holds it in the same engine batch as its own part, and the
// record lists every other written shard's part; a shard whose part such a record lists
// holds, in the same batch as that part, an applied marker naming the transaction.
//
//   0. First, every writer makes durable the writes it acknowledged unsynced, so each
//      shard's writes acknowledged before this one began are durable before any part of
//      this one can be (that is what a part written late by recovery must not overtake).
//      The server takes this step as it takes the write's key locks on each shard: what
//      must not be lost is what was acknowledged before the write began (anything a client
//      could have seen before sending it, or this write read); a write acknowledged on
//      that shard afterwards, on other keys, was concurrent with this one and may be lost
//      with the shard's tail. Parts of earlier multi-shard writes held by a synced decision
//      record, or by copies over every shard (below), are not among them, so a shard that
//      has taken only those since its last sync syncs nothing. Under always this finds
//      nothing, unless appendfsync was everysec a moment before.
//      Then, the batches holding their final records, every other writer's engine must be
//      accepting writes (engine::DB::accepts_writes(): no flush failing for want of space,
//      no hard error) and able to take its part as one WAL record, or the whole write is
//      refused before any batch: once the first batch is written the write is decided, so
//      every later part is written engine::WriteOptions::decided, which a full disk does
//      not refuse while the part can land at all. A part refused after its decision would
//      leave the write half visible until a restart completed it, over whatever its shard
//      acknowledged meanwhile. What can still refuse one (an IO error; a disk that filled
//      since the check, with no WAL segment or value-log room left for the part) also
//      stops its shard's engine acknowledging anything until it reopens, and recovery
//      writes the part then.
// Under appendfsync always (the acknowledgement means durable), and for writes over more
// than four shards:
//   1. The coordinator writes ONE engine batch, synced: its own part plus the decision
//      record. Once it is durable the write will happen whole: this is the decision point.
//   2. Every other shard writes its part with its marker, not synced: the decision already
//      makes the write durable, and recovery writes a part its shard's WAL lost. The
//      client is answered after this step.
// Under everysec and no (acknowledged before durable, as Redis's everysec; a power loss
// may lose the last second, never half of a write, never a hole in a shard's order), for
// writes over at most four shards (each writer logs the whole write):
//   1. Every writer's batch is its part, its marker and a COPY of the decision record
//      listing every other writer's part; none is synced. The coordinator's goes first and,
//      under everysec, waits for the page cache (a process crash then keeps it, as any
//      everysec write); the others are acknowledged from their WALs' tails, and keep
//      their key stripes until every batch of the write has its place in its WAL. The
//      client is answered after. A power loss keeps a prefix of each shard's WAL: if any
//      shard kept its batch, its copy lets recovery write every part the others lost; if
//      none did, the write is absent. Beyond step 0, no sync is on the client's path.
//      A write over EVERY shard counts as held elsewhere on each (a later multi-shard
//      write's step 0 need not sync it): a later write W that could depend on it (read or
//      overwrote its keys, or came after its acknowledgement) began after all its batches
//      were placed, so on any shard X whose copy of W survives, X's batch of this earlier
//      write precedes W's, survived too, and recovery completes it first (txid order). A
//      write over fewer shards counts as acknowledged unsynced: a later write's copy could
//      survive on a shard this one never wrote.
// Then, for both, later and in batches off the client's path (src/commands/shard_commit.cc):
//   3. every shard holding a part syncs its WAL (the parts are then durable), the decision
//      records are deleted, synced, on every shard holding one, and only then each shard
//      deletes its markers (a marker must outlive every record naming its part, or
//      recovery would write the part a second time over newer data).
// Recovery (src/server/multi_shard_recovery.h), before any client is served: for one
// decision record of each write left on any shard (a copy's holder has its own part, and
// the copy lists every other), in transaction-id order, each shard named in it whose
// marker is missing writes its part and the marker; then every decision record and every
// marker is deleted.
// A shard's WAL is replayed as a prefix, so a missing marker means nothing that shard wrote
// after the part survived either, and writing the part late cannot overwrite a newer value;
// step 0 (or, under always, every acknowledgement being durable) means everything it
// acknowledged before the part did survive, so the late part leaves no hole in that
// shard's order of writes.
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
  std::uint32_t coordinator = 0;  // names the markers: applied_marker_key(coordinator, txid)
  // Every written shard but the one holding this record (the coordinator, or under
  // everysec any writer holding a copy).
  std::vector<ShardPart> parts;
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
