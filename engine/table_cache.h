// TableCache: the open TableReaders of one engine, by file number.
//
// A table is opened (its file with O_DIRECT, then TableReader::open: footer, properties,
// top index and filter) on first use and kept open; readers share it through a
// shared_ptr<OpenTable>, so an iterator keeps the file open even after evict() forgets
// it (a compaction deleting the file). Two fibers asking for the same unopened
// table may both open it; the first to finish is kept and the other copy is dropped.
//
// Blocks are read through the shard's BlockCache (a CachedBlockReader per table), or, with
// no cache configured, through each reader's own UncachedBlockReader.
//
// No limit on open tables yet: every table stays open until evicted (compaction evicts
// the tables it deletes). One shard; get() may suspend the calling fiber on IO.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/cache/block_cache.h"
#include "engine/table/block_reader.h"
#include "engine/table/bloom_filter.h"
#include "engine/table/table_reader.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct OpenTable {
  std::unique_ptr<runtime::FileHandle> file;
  std::unique_ptr<BlockReader> block_reader;  // null: the reader's own uncached one
  std::unique_ptr<TableReader> reader;        // declared last: destroyed first

  ~OpenTable() {
    reader.reset();
    block_reader.reset();
    if (file) (void)file->close();
  }
};

using OpenTablePtr = std::shared_ptr<OpenTable>;

class TableCache {
 public:
  // `block_cache` may be null (no caching); it must outlive the tables.
  TableCache(runtime::FileSystem& fs, std::string dir, const PrefixExtractor* prefix_extractor,
             BlockCache* block_cache)
      : fs_(fs), dir_(std::move(dir)), prefix_extractor_(prefix_extractor),
        block_cache_(block_cache) {}

  // The open table `file_number` (of `file_size` bytes, as the version says).
  Result<OpenTablePtr> get(std::uint64_t file_number, std::uint64_t file_size);
  // Forgets a deleted table and frees its cached blocks early.
  void evict(std::uint64_t file_number) {
    tables_.erase(file_number);
    if (block_cache_) block_cache_->erase_file(file_number);
  }
  std::size_t size() const { return tables_.size(); }

 private:
  Result<OpenTablePtr> open_table(std::uint64_t file_number, std::uint64_t file_size);

  runtime::FileSystem& fs_;
  std::string dir_;
  const PrefixExtractor* prefix_extractor_;
  BlockCache* block_cache_;
  std::unordered_map<std::uint64_t, OpenTablePtr> tables_;
};

// The name of table `file_number` in an engine directory: "NNNNNN.sst".
std::string table_file_name(std::uint64_t file_number);

}  // namespace cascade::engine
