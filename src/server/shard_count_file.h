// The shard count of a data directory, fixed when the directory is created (DESIGN.md,
// "Key ownership"): keys are spread over the shards by slot mod N, so reopening the data
// with another N would look for keys on the wrong shard. The stored N therefore wins over
// the `shards` directive, and the caller says so in the log.
//
// File `dir/shards`, text, format version 1 (src/types/FORMAT.md, "Data directory"):
//   "cascade-shards 1\n<N>\n"
// Created as `shards.tmp`, written, synced, renamed to `shards`, and the directory synced:
// after a crash it is either absent (the directory counts as new) or whole. A file of
// another version, or malformed, is refused (Corruption), never rewritten.
//
// Calling rules: before the runtime starts (the file system blocks outside a fiber).
#pragma once

#include <cstddef>
#include <string>

#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::server {

inline constexpr std::string_view kShardCountFileName = "shards";

struct ShardCount {
  std::size_t shards = 0;
  bool created = false;  // the file was written now, with the requested count
};

// The stored shard count of `dir`, or `requested` written as the new one if there is none.
Result<ShardCount> load_or_create_shard_count(runtime::FileSystem& fs, const std::string& dir,
                                              std::size_t requested);

// "dir/shard-007" for shard 7.
std::string shard_directory(const std::string& dir, std::size_t shard);

}  // namespace cascade::server
