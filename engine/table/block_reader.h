// How a table reader gets its blocks: the seam between tables and the block cache.
//
// A BlockReader turns a block handle into a decoded, pinned Block: the Block stays alive
// (and its bytes valid) while a BlockRef to it exists. The table reader sends every data
// block and index partition read through one; the block cache implements the same
// interface, looking the (file_number, offset) up first and inserting what it reads.
// UncachedBlockReader does one aligned read per block and decodes it.
//
// A forward scan passes its BlockReadahead (block_readahead.h): a block the reader has to
// read then comes out of the scan's window, read a few hundred KiB at a time, instead of
// one read of its own pages. Point lookups and index partitions pass none.
//
// Reading a stored block: the pages_for(stored_size) whole pages at the handle's offset,
// one aligned read into an AlignedBuffer (O_DIRECT; left unzeroed, as the read fills every
// byte the decoder looks at); then the checksum and decompression of block_compression.h. A block shorter than its handle (a truncated file) or failing
// its checksum is Corruption.
//
// One shard: readers are not thread-safe, and reads may suspend the calling fiber.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/table/block.h"
#include "engine/table/block_compression.h"
#include "engine/table/block_readahead.h"
#include "engine/table/table_format.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

using BlockRef = std::shared_ptr<const Block>;

// What a block is, for the cache's priorities (index blocks outrank data blocks).
enum class BlockKind : std::uint8_t { kData, kIndex };

// A stored block's decoded bytes together with the pages they may view.
struct StoredBlockRead {
  runtime::AlignedBuffer pages;
  BlockContents contents;
};

// One aligned read of the block at `handle` of file `file_number`, verified and decoded.
Result<StoredBlockRead> read_stored_block(runtime::FileHandle& file, std::uint64_t file_number,
                                          const BlockHandle& handle, BlockDecoder& decoder);

// The same through a scan's readahead window (noted at `handle` already), decoded into
// contents that own their bytes: the window is reused by the next read.
Result<BlockContents> read_stored_block(runtime::FileHandle& file, std::uint64_t file_number,
                                        const BlockHandle& handle, BlockDecoder& decoder,
                                        BlockReadahead& readahead, BlockReadStats& stats);

// Opens the decoded block, keeping the pages it may view alive with it.
Result<BlockRef> pin_block(StoredBlockRead read);

class BlockReader {
 public:
  virtual ~BlockReader() = default;
  // `readahead`: the window of the forward scan asking, which has noted `handle`; null for
  // a point lookup or an index partition.
  virtual Result<BlockRef> read_block(const BlockHandle& handle, BlockKind kind,
                                      BlockReadahead* readahead) = 0;
};

class UncachedBlockReader final : public BlockReader {
 public:
  // The file must outlive the reader.
  UncachedBlockReader(runtime::FileHandle& file, std::uint64_t file_number)
      : file_(file), file_number_(file_number) {}

  Result<BlockRef> read_block(const BlockHandle& handle, BlockKind kind,
                              BlockReadahead* readahead) override;
  const BlockReadStats& stats() const { return stats_; }

 private:
  runtime::FileHandle& file_;
  std::uint64_t file_number_;
  BlockDecoder decoder_;
  BlockReadStats stats_;
};

}  // namespace cascade::engine
