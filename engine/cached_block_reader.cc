#include "engine/cached_block_reader.h"

#include <memory>

namespace cascade::engine {
namespace {

// A block opened over cached bytes, holding the pin that keeps those bytes resident.
struct CachedBlock {
  BlockCache::Handle pin;
  Block block;
};

// A block enters the cache only once Block::open has accepted it, and keeps the layout
// open found: a lookup then opens it without walking its restart array again, and a
// corrupt block is never cached (every lookup reads it again and reports it).
Result<CacheValue> opened(CacheValue value) {
  auto block = Block::open(value.view());
  if (!block) return block.error();
  value.set_block_layout(block->layout());
  return value;
}

}  // namespace

Result<BlockRef> CachedBlockReader::read_block(const BlockHandle& handle, BlockKind kind,
                                               BlockReadahead* readahead) {
  CacheReadOptions options;
  options.priority = kind == BlockKind::kIndex ? CachePriority::kHigh : CachePriority::kNormal;
  auto pin = cache_.lookup_or_load(
      BlockCacheKey{file_number_, handle.offset}, options, [&]() -> Result<CacheValue> {
        if (readahead != nullptr) {
          auto contents =
              read_stored_block(file_, file_number_, handle, decoder_, *readahead, stats_);
          if (!contents) return contents.error();
          return opened(CacheValue::from_contents(std::move(*contents)));
        }
        stats_.reads++;
        stats_.bytes += padded_size(handle.stored_size);
        auto read = read_stored_block(file_, file_number_, handle, decoder_);
        if (!read) return read.error();
        // Raw blocks view read->pages: from_contents copies them before the pages go.
        return opened(CacheValue::from_contents(std::move(read->contents)));
      });
  if (!pin) return pin.error();
  // Every block this reader caches has its layout; a value without one is checked here.
  const BlockLayout* layout = pin->block_layout();
  auto block = layout != nullptr ? Result<Block>(Block::reopen(pin->contents(), *layout))
                                 : Block::open(pin->contents());
  if (!block) return block.error();
  auto cached = std::make_shared<CachedBlock>(CachedBlock{std::move(*pin), std::move(*block)});
  return BlockRef(cached, &cached->block);
}

}  // namespace cascade::engine
