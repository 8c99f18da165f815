// TableCache: the open TableReaders of one engine, by file number.
//
// A table is opened (its file with O_DIRECT, then TableReader::open: footer, properties,
// top index and filter) on first use and kept open; readers share it through a
// shared_ptr<OpenTable>, so an iterator keeps the file open even after evict() forgets
// it (a compaction deleting the file, later). Two fibers asking for the same unopened
// table may both open it; the first to finish is kept and the other copy is dropped.
//
// Blocks are read through each reader's default UncachedBlockReader. The seam for the
// block cache (engine/cache/) is TableReaderOptions::block_reader: when the cache lands,
// open_table() passes a per-table BlockReader over it instead.
//
// No limit on open tables yet: every table stays open until evicted (L0 only grows until
// compaction exists). One shard; get() may suspend the calling fiber on IO.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/table/bloom_filter.h"
#include "engine/table/table_reader.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct OpenTable {
  std::unique_ptr<runtime::FileHandle> file;
  std::unique_ptr<TableReader> reader;  // declared after file: destroyed first

  ~OpenTable() {
    reader.reset();
    if (file) (void)file->close();
  }
};

using OpenTablePtr = std::shared_ptr<OpenTable>;

class TableCache {
 public:
  TableCache(runtime::FileSystem& fs, std::string dir, const PrefixExtractor* prefix_extractor)
      : fs_(fs), dir_(std::move(dir)), prefix_extractor_(prefix_extractor) {}

  // The open table `file_number` (of `file_size` bytes, as the version says).
  Result<OpenTablePtr> get(std::uint64_t file_number, std::uint64_t file_size);
  void evict(std::uint64_t file_number) { tables_.erase(file_number); }
  std::size_t size() const { return tables_.size(); }

 private:
  Result<OpenTablePtr> open_table(std::uint64_t file_number, std::uint64_t file_size);

  runtime::FileSystem& fs_;
  std::string dir_;
  const PrefixExtractor* prefix_extractor_;
  std::unordered_map<std::uint64_t, OpenTablePtr> tables_;
};

// The name of table `file_number` in an engine directory: "NNNNNN.sst".
std::string table_file_name(std::uint64_t file_number);

}  // namespace cascade::engine
