// Recovery at open: replaying the WAL above the manifest's flushed sequence into a fresh
// memtable, and removing files no version names.
//
// Replay rule. The manifest's flushed_sequence F says every write with a sequence <= F is
// in a table. A WAL batch whose sequences all lie at or below F is skipped; the others are
// added to the memtable in log order. Their sequences must continue without a gap: the
// first replayed batch starts at F + 1 and each next one right after the previous one's
// last sequence (the write path assigns sequences in WAL order and never leaves a hole).
// A gap, a step backwards, or a batch straddling F is Corruption: acknowledged writes
// would be missing or out of order. With tolerant recovery (damaged records skipped on
// purpose) gaps are accepted but order is still checked. This also covers the WAL's
// discarded_ring case (wal_reader.h): a left-out segment that held unflushed batches shows
// up as a gap after F.
//
// Logged values (DBOptions::separate_at_write, engine/vlog/vlog_appender.h). A
// kValuePointer record of a WAL batch names a value written to a value-log file at write
// time. Replay reads and checks each such record and adds the value itself to the
// memtable, noting the pointer in `logged` (with each file's extent) for the flush. A
// batch whose value record is not there (no file, a short file, a record with a zeroed
// sector or whose part of its first sector is zeros: writes a crash cut off) and every
// batch after it are not replayed: every value
// was written out (synced, for a durable write) before its write or any later one was
// acknowledged, in sequence order, so such a batch and all later ones were never
// acknowledged. `max_sequence` still counts them; the engine numbers new writes past it
// and flushes at once, so they are never replayed later. A damaged record that is not
// such a cut is Corruption (tolerant: a cut).
//
// Obsolete files: after the version set is open, every numbered file and old manifest it
// does not name (VersionSet::obsolete_files: tables of flushes that crashed before their
// edit, files of dropped versions) is removed. WAL segments are not numbered files and are
// never touched.
#pragma once

#include <cstdint>
#include <string>

#include "engine/memtable/memtable.h"
#include "engine/version/version_set.h"
#include "engine/vlog/vlog_appender.h"
#include "engine/wal/wal_reader.h"
#include "engine/wal/wal_segment.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct WalReplayResult {
  WalRecovery wal;
  SequenceNumber last_sequence = 0;  // the last replayed, or F when nothing was replayed
  SequenceNumber max_sequence = 0;   // the largest in the log, replayed or not (or F)
  std::uint64_t batches_replayed = 0;
  std::uint64_t batches_cut = 0;  // not replayed: at or after a missing logged value
};

// `fs` and `dir` hold the value-log files the log's pointers name.
Result<WalReplayResult> replay_wal(WalSegments& segments, SequenceNumber flushed_sequence,
                                   bool tolerant, MemTable& mem, LoggedValues& logged,
                                   runtime::FileSystem& fs, const std::string& dir);

// Removes the files versions.obsolete_files() lists in `dir`, and every value-log file that
// neither a version nor `logged` names; returns how many.
Result<std::uint64_t> delete_obsolete_files(runtime::FileSystem& fs, const std::string& dir,
                                            VersionSet& versions, const LoggedValues& logged);

}  // namespace cascade::engine
