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
// One shard; relocate_value suspends on IO.
#pragma once

#include <cstdint>
#include <set>
#include <string_view>

#include "engine/version/version.h"
#include "engine/vlog/value_log.h"
#include "engine/vlog/value_pointer.h"
#include "engine/vlog/value_separator.h"
#include "engine/vlog/vlog_garbage.h"
#include "engine/vlog/vlog_prefetcher.h"
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

// Moves the record of (user_key, encoded_pointer) to `out` and counts the old record as
// garbage in `garbage`. Returns the new pointer for the rewritten entry.
//
// The record is read through `reader` (a VlogPrefetcher over the job's version) and copied
// in its stored form, never decompressed and compressed again. Why a prefetcher: a
// compaction meets its entries in key order, and every value-log file was written in key
// order by one flush or one relocation, so the records it moves out of a file come at
// increasing offsets. The prefetcher's growing windows turn them into a few large reads
// per file, where one read per record would be two pages and one IO each.
Result<ValuePointer> relocate_value(VlogPrefetcher& reader, ValueSeparator& out,
                                    VlogGarbageTracker& garbage, std::string_view user_key,
                                    std::string_view encoded_pointer);

}  // namespace cascade::engine
