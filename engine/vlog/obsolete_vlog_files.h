// ObsoleteVlogFiles: value-log files removed from the current version (nothing live in
// them), waiting to be deleted until no version still held by a reader names them.
//
// A get or an iterator holds the Version it reads (db_read.cc), and VersionSet::live_files()
// reports every file a held version names; a pending file outside that set can no longer
// be read and is deleted. A file that fails to delete stays pending and is tried again;
// a crash before deletion is harmless: the next open deletes every numbered file the
// manifest does not name.
//
// One shard; delete_unreferenced suspends on the file system.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "engine/vlog/value_log.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

class ObsoleteVlogFiles {
 public:
  void add(std::uint64_t file_number) { pending_.insert(file_number); }
  std::size_t pending() const { return pending_.size(); }

  // Deletes every pending file not in `live`, forgetting it in `log` (which may be null)
  // first. Returns how many were deleted; the first removal error, if any, after trying
  // them all.
  Result<std::size_t> delete_unreferenced(runtime::FileSystem& fs, const std::string& dir,
                                          const std::set<std::uint64_t>& live, ValueLog* log);

 private:
  std::set<std::uint64_t> pending_;
};

}  // namespace cascade::engine
