// Reads one table file (layout: table_format.h, engine/FORMAT.md "Table").
//
// open() reads the footer (last page), then the properties, the top index and the filter,
// which stay in memory for the reader's life (one aligned read each). Everything else —
// index partitions and data blocks — is read through a BlockReader: the block cache, or
// by default an UncachedBlockReader doing one aligned read per block.
//
// get(seek_key, user_key_hash): the first entry >= seek_key in this table if it has
// seek_key's user key, else nothing; the caller resolves sequence visibility (the seek
// key carries the snapshot's sequence). The filter answers first, so a key the table
// does not hold costs no block read most of the time: a lookup touches the pinned top
// index, one index partition and one data block.
//
// Errors: a wrong magic or a malformed footer, checksum or handle is Corruption; a newer
// format version is NotSupported. get() and iterators return Corruption, never entries
// from a damaged block. A filter that fails its checksum fails open().
//
// One shard: not thread-safe; calls may suspend the calling fiber on IO.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/table/block.h"
#include "engine/table/block_reader.h"
#include "engine/table/bloom_filter.h"
#include "engine/table/table_format.h"
#include "engine/table/table_iterator.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

struct TableReaderOptions {
  // Reads index partitions and data blocks; null: an UncachedBlockReader over the file.
  // Must outlive the reader.
  BlockReader* block_reader = nullptr;
  // The extractor prefixes are queried with (may_contain_prefix); must outlive the reader.
  const PrefixExtractor* prefix_extractor = nullptr;
  bool use_filter = true;
};

struct TableReaderStats {
  std::uint64_t filter_checked = 0;  // gets the filter answered
  std::uint64_t filter_useful = 0;   // of those, answered "absent" (no block read)
};

// An entry found by get(): its user key is the one asked for, so only the rest of its
// internal key is returned (no copy of the key); the value views the pinned data block.
struct TableEntry {
  SequenceNumber sequence = 0;
  ValueType type = ValueType::kValue;
  std::string_view value;
  BlockRef pin;
};

class TableReader {
 public:
  // The file must outlive the reader.
  static Result<std::unique_ptr<TableReader>> open(runtime::FileHandle& file,
                                                   std::uint64_t file_number,
                                                   std::uint64_t file_size,
                                                   const TableReaderOptions& options = {});

  Result<std::optional<TableEntry>> get(std::string_view seek_key, std::uint64_t user_key_hash);

  // Over every entry, in internal-key order. The reader must outlive it.
  std::unique_ptr<InternalIterator> iterator();
  // Over every index entry (separator -> data block handle), for tools.
  std::unique_ptr<InternalIterator> index_iterator();
  // The pinned top index (last separator of a partition -> partition handle).
  std::unique_ptr<InternalIterator> top_index_iterator() const;

  // False only if no key with this prefix (under the options' extractor) is in the table.
  bool may_contain_prefix(std::string_view prefix) const;

  const TableProperties& properties() const { return props_; }
  const Footer& footer() const { return footer_; }
  const TableReaderStats& stats() const { return stats_; }
  bool has_filter() const { return filter_.has_value(); }
  // The default reader's read counts; null when the options supplied a reader.
  const BlockReadStats* read_stats() const { return uncached_ ? &uncached_->stats() : nullptr; }

 private:
  TableReader(runtime::FileHandle& file, std::uint64_t file_number, std::uint64_t file_size,
              const TableReaderOptions& options);
  Status read_footer();
  Status read_meta();
  void find_data_end();
  Result<BlockRef> load(const BlockHandle& handle, BlockKind kind,
                        BlockReadahead* readahead = nullptr);
  Result<std::optional<TableEntry>> find_in_data_block(std::string_view seek_key,
                                                       std::string_view handle_value);

  runtime::FileHandle& file_;
  std::uint64_t file_number_;
  std::uint64_t file_size_;
  TableReaderOptions options_;
  std::unique_ptr<UncachedBlockReader> uncached_;
  BlockReader* blocks_;
  Footer footer_;
  TableProperties props_;
  BlockRef top_index_;
  std::uint64_t data_end_ = 0;  // where the data blocks end: the first index partition
  StoredBlockRead filter_bytes_;
  std::optional<BloomFilter> filter_;
  TableReaderStats stats_;
};

}  // namespace cascade::engine
