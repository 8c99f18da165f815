// One aligned read per block, then checksum and decompression (block_reader.h).
#include "engine/table/block_reader.h"

#include <string>

namespace cascade::engine {

Result<StoredBlockRead> read_stored_block(runtime::FileHandle& file, std::uint64_t file_number,
                                          const BlockHandle& handle, BlockDecoder& decoder) {
  StoredBlockRead read;
  read.pages = runtime::AlignedBuffer::uninitialized(padded_size(handle.stored_size));
  auto n = file.read_at(handle.offset, read.pages.span());
  if (!n) return n.error();
  if (*n < handle.stored_size) {
    return Status::corruption("table: block at offset " + std::to_string(handle.offset) +
                              " of file " + std::to_string(file_number) + " is past end of file");
  }
  std::string_view stored(reinterpret_cast<const char*>(read.pages.data()), handle.stored_size);
  auto contents = decoder.decode(stored, file_number, handle.offset);
  if (!contents) return contents.error();
  read.contents = std::move(*contents);
  return read;
}

Result<BlockContents> read_stored_block(runtime::FileHandle& file, std::uint64_t file_number,
                                        const BlockHandle& handle, BlockDecoder& decoder,
                                        BlockReadahead& readahead, BlockReadStats& stats) {
  auto stored = readahead.read(file, file_number, handle, stats);
  if (!stored) return stored.error();
  auto contents = decoder.decode(*stored, file_number, handle.offset);
  if (!contents) return contents.error();
  return owning(std::move(*contents));
}

namespace {

// Keeps the pages a raw block views alive for as long as the Block.
struct PinnedPages {
  runtime::AlignedBuffer pages;
  Block block;
};

}  // namespace

Result<BlockRef> pin_block(StoredBlockRead read) {
  auto block = Block::open(std::move(read.contents));
  if (!block) return block.error();
  auto pinned = std::make_shared<PinnedPages>(PinnedPages{std::move(read.pages), std::move(*block)});
  return BlockRef(pinned, &pinned->block);
}

Result<BlockRef> UncachedBlockReader::read_block(const BlockHandle& handle, BlockKind,
                                                 BlockReadahead* readahead) {
  if (readahead != nullptr) {
    auto contents = read_stored_block(file_, file_number_, handle, decoder_, *readahead, stats_);
    if (!contents) return contents.error();
    return pin_block(StoredBlockRead{{}, std::move(*contents)});
  }
  stats_.reads++;
  stats_.bytes += padded_size(handle.stored_size);
  auto read = read_stored_block(file_, file_number_, handle, decoder_);
  if (!read) return read.error();
  return pin_block(std::move(*read));
}

}  // namespace cascade::engine
