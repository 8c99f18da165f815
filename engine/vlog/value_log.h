// ValueLog: the engine's read side of the value log — its open files by number, and point
// reads of separated values through the shard's block cache.
//
// Files are opened with O_DIRECT on first use and kept open (like TableCache); holders
// share an OpenVlog through a shared_ptr, so evict() (a deleted file) never closes a file
// under a reader. A pointer is resolved only against a Version that names its file: the
// version gives the file's size, which bounds every read (a damaged pointer is Corruption,
// never a huge allocation).
//
// Caching. A value of at most kMaxCachedValueSize is cached in the block cache under
// (file number, record offset): file numbers are never reused and value-log files are
// immutable, so such an entry never goes stale. Concurrent misses of one value share one
// read (BlockCache's coalescing). Larger values bypass the cache: one would evict hundreds
// of blocks.
//
// One shard; get() and open() may suspend the calling fiber on IO.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/cache/block_cache.h"
#include "engine/version/version.h"
#include "engine/vlog/value_pointer.h"
#include "engine/vlog/vlog_reader.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::size_t kMaxCachedValueSize = 64 * 1024;

struct ValueLogStats {
  std::uint64_t reads = 0;        // values read from disk by get()
  std::uint64_t cache_hits = 0;   // values get() found in the block cache
  std::uint64_t open_files = 0;
};

class ValueLog {
 public:
  // `block_cache` may be null; it must outlive the value log.
  ValueLog(runtime::FileSystem& fs, std::string dir, BlockCache* block_cache)
      : fs_(fs), dir_(std::move(dir)), block_cache_(block_cache) {}

  // The open file `file_number` of `file_size` bytes.
  Result<OpenVlogPtr> open(std::uint64_t file_number, std::uint64_t file_size);

  // The value of the entry (user_key, encoded_pointer) read under `version`.
  Result<std::string> get(std::string_view user_key, std::string_view encoded_pointer,
                          const Version& version);

  // Forgets a deleted file and its cached values.
  void evict(std::uint64_t file_number) {
    files_.erase(file_number);
    if (block_cache_) block_cache_->erase_file(file_number);
  }

  ValueLogStats stats() const {
    ValueLogStats s = stats_;
    s.open_files = files_.size();
    return s;
  }

 private:
  runtime::FileSystem& fs_;
  std::string dir_;
  BlockCache* block_cache_;
  std::unordered_map<std::uint64_t, OpenVlogPtr> files_;
  ValueLogStats stats_;
};

// The version's record of the file `p` points into; Corruption if it names none.
Result<VlogFile> vlog_file_for(const Version& version, const ValuePointer& p);

}  // namespace cascade::engine
