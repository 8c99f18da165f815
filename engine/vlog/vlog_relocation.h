// Value-log GC as relocation during compaction (BlobDB-style; DESIGN.md, "Value
// separation"): no separate GC pass and no point lookups. When compaction rewrites an entry
// whose pointer names a file picked for relocation, it copies the value into the
// compaction's own value-log output and writes the new pointer instead; the old record
// becomes garbage. Once every live record of a picked file has moved, its garbage reaches
// its size and VlogGarbageTracker removes it.
//
// Picking (files_to_relocate): only the oldest `age_cutoff` fraction of files (by file
// number, which is creation order) is considered, and of those only files whose garbage
// ratio is at least `garbage_ratio`. Relocating young files would copy values likely to be
// overwritten soon; leaving old garbage-heavy files alone keeps ~2x space under skewed
// workloads. needs_targeted_compaction() says when the oldest file passes the ratio, so
// the compaction picker can schedule a compaction over the tables that point into it.
//
// One shard; VlogRelocator suspends on IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/version/version.h"
#include "engine/vlog/value_log.h"
#include "engine/vlog/value_pointer.h"
#include "engine/vlog/value_separator.h"
#include "engine/vlog/vlog_garbage.h"
#include "engine/vlog/vlog_prefetcher.h"
#include "src/runtime/rate_limiter.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct RelocationPolicy {
  double garbage_ratio = 0.5;  // garbage_bytes / file_size at which a file is relocated
  double age_cutoff = 0.25;    // fraction of the files, oldest first, that may be picked
};

// The share of a file's record bytes known to be garbage, in [0, 1]; 1 when nothing in it
// is live. A file enters the version with garbage_bytes = its overhead: the header and
// footer pages plus 0..4095 bytes of padding, which the manifest does not record apart.
// Counting the largest padding as overhead never overstates the garbage, and a file just
// written (a relocation's output: no record garbage yet) has ratio 0, so relocation never
// picks its own output again before drops give it garbage (the picker's termination).
// Files of at most one page of records are therefore never relocated: each holds under
// 4 KiB of garbage, and is deleted once nothing in it is live.
double garbage_ratio(const VlogFile& f);

std::set<std::uint64_t> files_to_relocate(const Version& version, const RelocationPolicy& policy);

// True if the oldest value-log file passes the policy's garbage ratio.
bool needs_targeted_compaction(const Version& version, const RelocationPolicy& policy);

// VlogRelocator: moves records of picked files to `out` in batches.
//
// Why batches: a compaction meets its entries in key order. A file a flush separated holds
// them in key order too, but a file of values logged at write time (vlog_appender.h) holds
// them in arrival order, so its records come at random offsets, and reading each as it
// comes is one synchronous read per record inside the compaction. So relocate() only
// reserves the record's place in `out` (a moved record keeps its size: the same header,
// key and stored value, with a new checksum) and returns the new pointer at once; the
// reads happen when the batch's planned buffers reach `batch_memory`, when `out` must
// roll to a new file, or at flush(): sorted by file and offset, records closer than
// `merge_gap` read as one range of at most `max_read` bytes, up to `reads_in_flight`
// ranges at once on fibers of the caller's priority, then every record checked
// (vlog_reader.h) and copied in its stored form, never decompressed and compressed again,
// in the order reserved. A record stored in key order thus costs a share of a few large
// reads, and a scattered one a read of its own sectors in parallel with many others.
//
// Memory: a record plans its sectors plus one page of alignment and `merge_gap` (the most
// a merge can add before it), so a batch's buffers never pass `batch_memory` plus one
// record's plan.
//
// The new pointer's head comes from the old pointer's. One shorter than `out`'s head size
// (a value shorter than the head, or a table from before heads) is completed from the
// record, read at once through a readahead reader (VlogPrefetcher): the move itself stays
// in the batch.
//
// Errors (a read, a checksum, a write) surface from the relocate() or flush() that runs
// the batch and from every later call; the job fails and its output files are removed
// (ValueSeparator::abandon). `version` must name every file a pointer points into, and
// keep them (the job's version). Every range's bytes are charged to `limiter` (may be
// null) before they are read.
struct RelocatorOptions {
  std::size_t batch_memory = 8 << 20;
  std::size_t merge_gap = 16 * 1024;
  std::size_t max_read = 512 * 1024;
  std::size_t reads_in_flight = 32;
};

struct RelocatorStats {
  std::uint64_t records = 0;  // records moved
  std::uint64_t batches = 0;
  std::uint64_t reads = 0;    // ranges read
  std::uint64_t bytes = 0;    // bytes read for them
  std::uint64_t head_reads = 0;  // records read early for their heads
};

class VlogRelocator {
 public:
  VlogRelocator(ValueLog& log, std::shared_ptr<const Version> version, ValueSeparator& out,
                RelocatorOptions options, runtime::RateLimiter* limiter = nullptr)
      : log_(log), version_(std::move(version)), out_(out), options_(options),
        limiter_(limiter) {}

  // The new pointer of the record `old` names (its entry's key is `user_key`); the record
  // is copied by this call or a later one.
  Result<ValuePointer> relocate(std::string_view user_key, const ValuePointer& old);
  // Reads and copies every record reserved so far.
  Status flush();

  const RelocatorStats& stats() const { return stats_; }

 private:
  Status run_batch();
  Result<std::string> head_from_record(std::string_view user_key, const ValuePointer& old,
                                       std::size_t head_size);

  ValueLog& log_;
  std::shared_ptr<const Version> version_;
  ValueSeparator& out_;
  const RelocatorOptions options_;
  runtime::RateLimiter* limiter_;
  // The batch's moves, index for index: where each record is, its entry's key, and the
  // place reserved for it in out_ (filled in this order).
  std::vector<ValuePointer> from_;
  std::vector<std::string> keys_;
  std::vector<ValuePointer> to_;
  std::size_t planned_bytes_ = 0;  // the pending moves' read buffers, at most
  std::optional<VlogPrefetcher> head_reader_;
  Status status_;  // the first error: every later call returns it
  RelocatorStats stats_;
};

}  // namespace cascade::engine
