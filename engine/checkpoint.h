// Checkpoint: a consistent copy of one engine in another directory of the same file system
// (engine/FORMAT.md, "Checkpoint"), made from a Version the caller holds.
//
// A checkpoint directory is an ordinary engine directory: opening it with DB::open gives
// the data as of the checkpoint's sequence, and it can be opened, written and compacted
// like any other without touching the source. It holds
//   NNNNNN.ext       every table and value-log file the version names, hard-linked to the
//                    source's (the same inode: both are immutable, and a file the source
//                    deletes later lives on under the checkpoint's name); a copy when the
//                    file system refuses the link (EXDEV and friends, file_copy.h)
//   MANIFEST-NNNNNN  one record: the version's snapshot edit without WAL segments, with
//                    last sequence = the version's flushed sequence
//   CURRENT          names that manifest; written last
// and no WAL: every write the checkpoint holds is in its tables (the caller flushed the
// memtables first), so a WAL is created empty at its first open.
//
// Order, so that a crash at any point leaves either a whole checkpoint or one that cannot
// be mistaken for one:
//   1. `dir` must not exist; it is created and its parent synced.
//   2. Every live file is linked (or copied and synced); the directory is synced.
//   3. The manifest is written and synced; the directory is synced.
//   4. CURRENT is installed (CURRENT.tmp, sync, rename, directory sync).
// Before 4 completes there is no CURRENT: opening with create_if_missing = false fails
// (NotFound for a directory still empty, Corruption once it holds engine files), and so
// does an ordinary open as soon as any table landed. The source directory is only read.
//
// Calling rules: from a fiber of the shard that owns the source engine (the IO may
// suspend it). The caller keeps `version` alive for the duration, which keeps the
// source's obsolete-file deletion away from every file it names (VersionSet::live_files).
#pragma once

#include <cstdint>
#include <string>

#include "engine/format/internal_key.h"
#include "engine/version/version.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct CheckpointInfo {
  // The checkpoint holds every write with a sequence <= it and none above.
  SequenceNumber sequence = 0;
  std::uint64_t files_linked = 0;
  std::uint64_t files_copied = 0;
  std::uint64_t bytes_copied = 0;
};

// Writes the checkpoint of `version` (whose files are in `source_dir`) into `dir`, with
// MANIFEST-`manifest_number`, a number above every file number the version names.
// InvalidArgument if `dir` exists; Corruption if a file the version names is missing from
// the source. On failure `dir` is left as it is (without CURRENT).
Result<CheckpointInfo> write_checkpoint(runtime::FileSystem& fs, const std::string& source_dir,
                                        const std::string& dir, const Version& version,
                                        std::uint64_t manifest_number);

}  // namespace cascade::engine
