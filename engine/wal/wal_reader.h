// Recovery: replays the WAL's records in order and finds where appending resumes.
//
// Which segments hold the log. The first record of a segment (at offset 4096) names its lap,
// so its ring index r = lap * count + segment. The newest ring index `top` ends the log and
// the window [max(count, top - count + 1), top] is the log: every ring index in it was
// written (the writer never skips one), older ones were overwritten. The file after top is
// searched for records of the next lap (the writer's first write into it was lost in a
// crash while a later one landed): if it holds any, it is the top. A segment in the window
// is scanned from offset 4096 record by record until:
//   - a zero header at a page start, or the segment's end: the clean end of its data (the
//     writer writes a zero page after a segment's last group and syncs it before moving on);
//   - in the top segment, a page start whose header names another lap: stale bytes of an
//     older lap, also the clean end;
//   - anything else: a bad record at p.
// Zeros from a record's end to its page's end are a group's padding, unless the record on
// the next page breaks the sequence (the write path logs sequences without holes) and its
// durable_to shows the zeros were never synced: then a torn write lost the group's later
// records from exactly a record's start, and the zeros' start is a bad record p. (A hole
// after synced bytes is legitimate: after recovery the engine resumes past sequences its
// tables hold, which may be past the log's last.)
// After the scan stops at p, the rest of the segment is searched (every 8-byte offset) for
// valid records of the same lap. Then:
//   - nothing found and the stop was clean: the segment is done (the next one follows);
//   - the top segment, and no record found after p says p was durable (every later
//     record's durable_to <= p): a torn tail. The log ends before p; the later records were
//     never synced and are dropped (counted in the result and erased by WalWriter::open);
//   - otherwise acknowledged data is damaged (a non-top segment was synced when the writer
//     left it; a later record whose durable_to > p proves p had been synced): Corruption, or
//     with `tolerant` the damaged bytes are skipped and the scan resumes at the next valid
//     record (or the next segment). A window segment whose first record is damaged is
//     Corruption too (tolerant: skipped whole), but for the oldest slot of the window.
// The oldest slot is the segment after top, the one the writer enters next once all its
// records are flushed, by writing pages of the next lap over them without a sync. A crash
// may land any of those writes torn, or a later one while an earlier one is lost, so
// damage anywhere in that segment (its first record included) is taken as such an entry:
// the segment is replayed only up to the damage and the rest is left out (discarded_ring),
// never refused. Damage to an oldest segment that still held unflushed batches is caught by
// the engine's replay, which then finds a gap after its flushed sequence (engine/recovery.h).
// Damage that lies entirely in the last group written is indistinguishable from a torn
// write and is reported as a torn tail.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/format/internal_key.h"
#include "engine/wal/wal_format.h"
#include "engine/wal/wal_segment.h"
#include "engine/write_batch.h"

namespace cascade::engine {

struct WalRecoveryOptions {
  bool tolerant = false;  // skip damaged acknowledged records instead of failing
};

// What recovery learned about one segment file, for the writer's ring.
struct WalSegmentState {
  std::uint64_t ring = 0;  // the ring index it holds in the log window, 0 if none
  bool has_records = false;
  SequenceNumber max_sequence = 0;
};

struct WalRecovery {
  std::uint64_t batches = 0;
  SequenceNumber last_sequence = 0;  // the largest sequence replayed (0 if none)
  bool torn_tail = false;
  WalPosition torn_at;                // where the torn record started
  std::uint64_t dropped_records = 0;  // valid but unsynced records after the torn tail
  std::uint64_t skipped_damage = 0;   // damaged ranges skipped (tolerant only)
  // Nonzero if the segment in the oldest slot of the window was damaged and left out from
  // the damage on (whole if its first record was damaged): its ring index. Normally the writer's torn entry into a new lap over a
  // flushed segment; the engine, which knows what is flushed, must treat it as corruption
  // if its manifest does not cover that segment.
  std::uint64_t discarded_ring = 0;

  // Where the next group goes: a page boundary after the last replayed record.
  std::uint64_t resume_ring = 0;
  std::uint64_t resume_offset = 0;
  std::uint64_t last_record_end = 0;  // in the resume segment
  // After a torn tail: pages [align_down(last_record_end), erase_end) of the resume segment
  // hold torn or dropped bytes; `tail_page` is the first of them with the valid prefix kept
  // and zeros after it. WalWriter::open writes these before appending.
  std::uint64_t erase_end = 0;
  std::string tail_page;
  std::vector<WalSegmentState> segments;
};

// Called for each batch in log order with the record's position; a non-ok Status stops
// recovery and is returned.
using WalReplayFn = std::function<Status(const WriteBatch&, const WalPosition&)>;

Result<WalRecovery> recover_wal(WalSegments& segments, const WalRecoveryOptions& options,
                                const WalReplayFn& replay);

}  // namespace cascade::engine
