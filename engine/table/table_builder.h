// Writes one table file sequentially (layout: table_format.h and engine/FORMAT.md "Table").
//
// Use: construct over a FileHandle opened for writing with O_DIRECT (an empty file), add()
// internal keys in strictly increasing internal-key order, then finish() or abandon().
//
// - Data blocks are cut with the page-fit loop of block_compression.h, so nearly every
//   data block is one 4 KiB page. Each finished block's index entry is a separator
//   between its last key and the next block's first key (shortest_separator).
// - Index entries fill raw index partitions of at most one page each; the top index
//   (one block, kept pinned by readers) maps each partition's last separator to it.
// - One bloom filter for the whole table: key_hash of every distinct user key, plus
//   prefix hashes when the options carry a prefix extractor.
// - Blocks are gathered into kDefaultWriteChunkSize aligned writes (PageWriter).
//
// finish() writes the index, filter, properties and footer, then syncs the file (sync:
// fdatasync). The caller syncs the directory before any manifest edit names the file.
// abandon() stops building (waiting for the write in flight); the caller removes the file. After an error every call
// returns it again: the file is to be abandoned.
//
// One fiber at a time; add() and finish() may suspend on IO.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/block_builder.h"
#include "engine/table/block_compression.h"
#include "engine/table/bloom_filter.h"
#include "engine/table/page_writer.h"
#include "engine/table/table_format.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

struct TableBuilderOptions {
  std::uint64_t file_number = 0;  // seeds every checksum of the file
  CompressionOptions compression;
  PageFitTuning page_fit;
  bool use_filter = true;
  BloomFilterOptions filter;  // its prefix extractor must outlive the builder
  std::size_t write_chunk_size = kDefaultWriteChunkSize;
  std::uint64_t creation_time = 0;  // seconds since the epoch; 0: now
  // Called inside finish() while the filter is built, every kBloomPauseHashes keys (a
  // 32 MiB table's filter is milliseconds of CPU); null: never. Compaction yields there.
  std::function<void()> pause;
};

class TableBuilder {
 public:
  // The file must outlive the builder.
  TableBuilder(runtime::FileHandle& file, const TableBuilderOptions& options);

  // InvalidArgument for a malformed internal key or one not after the previous key.
  Status add(std::string_view internal_key, std::string_view value);
  // Properties with file_size set. The builder accepts nothing afterwards.
  Result<TableProperties> finish();
  // Waits for a write in flight, so the caller may close the file next.
  void abandon() {
    closed_ = true;
    (void)writer_.wait();
  }

  std::uint64_t num_entries() const { return props_.num_entries; }
  std::uint64_t num_data_blocks() const { return props_.num_data_blocks; }
  // Bytes written so far plus the current data block: for cutting output tables.
  std::uint64_t estimated_file_size() const;

 private:
  Status emit_data_block();
  Status add_index_entry(std::string_view separator, const BlockHandle& handle);
  void finish_index_partition();
  Result<BlockHandle> write_meta_block(std::string_view raw);
  Status write_index();
  Status write_footer(const Footer& footer);
  Status fail(Status s);

  runtime::FileHandle& file_;
  TableBuilderOptions options_;
  BlockBuilder data_block_;
  BlockCompressor compressor_;
  BlockCompressor meta_compressor_;  // index, filter, properties: stored raw
  PageFitEstimator estimator_;
  PageWriter writer_;
  BloomFilterBuilder filter_;
  std::string stored_;  // scratch for one stored block

  // The index entry of the last data block waits for the next key (its separator).
  std::optional<BlockHandle> pending_handle_;
  std::string pending_last_key_;

  BlockBuilder index_block_;
  struct Partition {
    std::string raw;
    std::string last_key;
  };
  std::vector<Partition> partitions_;  // written after the data, at finish()

  BlockHandle footer_top_index_;
  std::string last_key_;
  TableProperties props_;
  Status status_;
  bool closed_ = false;
};

}  // namespace cascade::engine
