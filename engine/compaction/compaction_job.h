// run_compaction_job: executes one picked Compaction that is not a trivial move.
//
// Steps: open every input table with its own O_DIRECT handle (uncached: a compaction
// reads each block once, and must not push the shard's hot blocks out of the block
// cache), each through a ThrottledFile; merge them (MergingIterator); drop what no reader
// needs (CompactionIterator); write the rest into output tables (CompactionOutputs), each
// synced when finished; then let the value handler add its changes to the edit. The
// returned edit removes every input and adds every output at output_level; the caller
// logs it (VersionSet::log_and_apply syncs the directory first) and, if that fails,
// removes the outputs itself.
//
// Pacing: options.pause() (an error from it aborts the job) is called once per output data block and once per
// kCompactionPauseEntries input entries (when entries are dropped no block is written):
// the DB yields there and gives way to a flush that writers are waiting for. All reads
// and writes pass options.rate_limiter (may be null).
//
// On any error every output file created so far is removed (best effort; the next open
// removes what is left) and the error returned; the inputs are untouched, so the job may
// be retried.
//
// Runs on a background fiber with a large stack (zstd); suspends on IO, the limiter and
// pause().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/compaction/compaction.h"
#include "engine/compaction/compaction_filter.h"
#include "engine/compaction/compaction_iterator.h"
#include "engine/compaction/compaction_options.h"
#include "engine/compaction/compaction_value_hooks.h"
#include "engine/compaction/throttled_file.h"
#include "engine/table/bloom_filter.h"
#include "src/runtime/file_system.h"
#include "src/runtime/rate_limiter.h"

namespace cascade::engine {

inline constexpr std::uint64_t kCompactionPauseEntries = 1024;

struct CompactionJobOptions {
  std::string dir;
  LevelOptions output;  // the output level's options
  double bloom_bits_per_key = 10.0;
  const PrefixExtractor* prefix_extractor = nullptr;
  std::vector<SequenceNumber> snapshots;  // live snapshots when the job starts, ascending
  SequenceNumber visible = kMaxSequenceNumber;  // CompactionIteratorOptions::visible
  const CompactionFilter* filter = nullptr;
  CompactionValueHooks* value_hooks = nullptr;
  runtime::RateLimiter* rate_limiter = nullptr;
  std::function<std::uint64_t()> new_file_number;
  std::function<Status()> pause;  // null: yield; an error ends the job with it
};

struct CompactionJobResult {
  VersionEdit edit;
  std::vector<TableFile> outputs;
  IoByteCounters io;
  CompactionIteratorStats entries;
};

Result<CompactionJobResult> run_compaction_job(runtime::FileSystem& fs, const Compaction& c,
                                               const CompactionJobOptions& options);

}  // namespace cascade::engine
