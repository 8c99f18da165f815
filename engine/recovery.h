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
// Obsolete files: after the version set is open, every numbered file and old manifest it
// does not name (VersionSet::obsolete_files: tables of flushes that crashed before their
// edit, files of dropped versions) is removed. WAL segments are not numbered files and are
// never touched.
#pragma once

#include <cstdint>
#include <string>

#include "engine/memtable/memtable.h"
#include "engine/version/version_set.h"
#include "engine/wal/wal_reader.h"
#include "engine/wal/wal_segment.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct WalReplayResult {
  WalRecovery wal;
  SequenceNumber last_sequence = 0;  // the last replayed, or F when nothing was replayed
  std::uint64_t batches_replayed = 0;
};

Result<WalReplayResult> replay_wal(WalSegments& segments, SequenceNumber flushed_sequence,
                                   bool tolerant, MemTable& mem);

// Removes the files versions.obsolete_files() lists in `dir`; returns how many.
Result<std::uint64_t> delete_obsolete_files(runtime::FileSystem& fs, const std::string& dir,
                                            VersionSet& versions);

}  // namespace cascade::engine
