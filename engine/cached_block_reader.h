// CachedBlockReader: a table's blocks read through the shard's BlockCache.
//
// Each block is looked up by (file number, offset); a miss reads and decodes it (one
// aligned read, or out of a forward scan's readahead window) inside the cache's loader, so
// concurrent misses of one block share one read. Index partitions are cached at high priority, data blocks at normal priority.
// The BlockRef handed out keeps the cache handle, so the block stays pinned (and its bytes
// valid) exactly as long as a reader uses it.
//
// One shard: the cache and the file belong to the calling shard; reads may suspend.
#pragma once

#include <cstdint>

#include "engine/cache/block_cache.h"
#include "engine/table/block_reader.h"

namespace cascade::engine {

class CachedBlockReader final : public BlockReader {
 public:
  // The cache and the file must outlive the reader.
  CachedBlockReader(BlockCache& cache, runtime::FileHandle& file, std::uint64_t file_number)
      : cache_(cache), file_(file), file_number_(file_number) {}

  Result<BlockRef> read_block(const BlockHandle& handle, BlockKind kind,
                              BlockReadahead* readahead) override;
  // The reads this reader issued for misses (windows count once).
  const BlockReadStats& stats() const { return stats_; }

 private:
  BlockCache& cache_;
  runtime::FileHandle& file_;
  std::uint64_t file_number_;
  BlockDecoder decoder_;
  BlockReadStats stats_;
};

}  // namespace cascade::engine
