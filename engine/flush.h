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
#include <map>
#include <string>

#include "engine/memtable/memtable.h"
#include "engine/table/block_compression.h"
#include "engine/table/bloom_filter.h"
#include "engine/version/version_edit.h"
#include "engine/vlog/value_separator.h"
#include "engine/vlog/vlog_appender.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::uint64_t kFlushYieldEntries = 256;

struct FlushOptions {
  CompressionOptions compression;
  double bloom_bits_per_key = 10.0;
  const PrefixExtractor* prefix_extractor = nullptr;
  ValueSeparator* separator = nullptr;  // null: every value stays in the table
  // The values the memtable's writes logged already (DBOptions::separate_at_write): such
  // an entry becomes the pointer its write made, whatever the separator's policy. May be
  // null.
  const LoggedValues* logged = nullptr;
  // Out: the record bytes of each logged file the table's pointers name (its live bytes).
  std::map<std::uint64_t, std::uint64_t>* logged_live = nullptr;
};

// Requires a non-empty memtable. Returns the table's metadata for the version edit.
Result<TableFile> write_level0_table(runtime::FileSystem& fs, const std::string& dir,
                                     std::uint64_t file_number, const MemTable& mem,
                                     const FlushOptions& options);

}  // namespace cascade::engine
