// Flush: writing one immutable memtable out as a level-0 table.
//
// write_level0_table() copies every entry of the memtable (all versions and tombstones:
// snapshots may still read old versions, and nothing below level 0 can be shadowed yet)
// into a new table file "NNNNNN.sst", in internal-key order, and syncs it (TableBuilder's
// finish). The caller then logs a version edit naming the table; log_and_apply syncs the
// directory first. On any error the partial file is removed (best effort) and the error
// returned; the memtable is untouched, so the flush can be retried.
//
// Value separation: with FlushOptions::separator, each value the separator takes goes to the
// value log and the table holds a kValuePointer entry instead (engine/vlog/value_separator.h).
// The caller finishes the separator (syncing its files) before the version edit, and
// abandons it when the flush fails, so no value-log file outlives a failed flush.
//
// Runs on a background fiber and yields every kFlushYieldEntries entries, so a long flush
// on a file system that never suspends cannot starve the shard's clients.
#pragma once

#include <cstdint>
#include <string>

#include "engine/memtable/memtable.h"
#include "engine/table/block_compression.h"
#include "engine/table/bloom_filter.h"
#include "engine/version/version_edit.h"
#include "engine/vlog/value_separator.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::uint64_t kFlushYieldEntries = 256;

struct FlushOptions {
  CompressionOptions compression;
  double bloom_bits_per_key = 10.0;
  const PrefixExtractor* prefix_extractor = nullptr;
  ValueSeparator* separator = nullptr;  // null: every value stays in the table
};

// Requires a non-empty memtable. Returns the table's metadata for the version edit.
Result<TableFile> write_level0_table(runtime::FileSystem& fs, const std::string& dir,
                                     std::uint64_t file_number, const MemTable& mem,
                                     const FlushOptions& options);

}  // namespace cascade::engine
