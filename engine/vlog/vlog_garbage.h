// VlogGarbageTracker: the value log's garbage accounting (DESIGN.md, "Value log").
//
// Every record in a value-log file is pointed to by exactly one tree entry: a flush writes
// one record per separated entry, and compaction moves entries without copying them. So a
// record becomes garbage exactly when compaction drops its entry (a newer version shadows
// it and no snapshot can see it, or a tombstone deletes it) or relocates its value to
// another file. Compaction reports each such pointer here (pointer_dropped); when it logs
// its version edit, add_to_edit() turns the counts into "vlog garbage" fields (manifest
// tag 14, a delta per file), so the garbage survives restarts without a rescan. A file
// whose garbage reaches its size holds nothing live: the same edit removes it from the
// version, and ObsoleteVlogFiles deletes it once no version still held names it.
//
// Snapshots need no extra rule: compaction keeps every version a snapshot can see, so it
// never reports a pointer a snapshot may still read.
//
// One shard; nothing here suspends or does IO.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "engine/version/version.h"
#include "engine/version/version_edit.h"
#include "engine/vlog/value_pointer.h"
#include "src/runtime/result.h"

namespace cascade::engine {

class VlogGarbageTracker {
 public:
  // The entry holding `encoded_pointer` was dropped or its value relocated.
  Status pointer_dropped(std::string_view encoded_pointer);
  void pointer_dropped(const ValuePointer& p) { pending_[p.file_number] += p.size; }

  bool empty() const { return pending_.empty(); }
  // Bytes counted and not yet added to an edit, per file number.
  const std::map<std::uint64_t, std::uint64_t>& pending() const { return pending_; }

  // Adds the pending garbage to `edit`, to be applied on `base`: one garbage delta per
  // file, and a removal for each file that then holds nothing live (returned, to hand to
  // ObsoleteVlogFiles once the edit is logged). Corruption, and `edit` untouched, if a
  // file is not in `base` or would get more garbage than its size: a pointer was counted
  // twice or pointed outside any file. The pending counts are cleared on success.
  Result<std::vector<std::uint64_t>> add_to_edit(VersionEdit& edit, const Version& base);

 private:
  std::map<std::uint64_t, std::uint64_t> pending_;
};

}  // namespace cascade::engine
