// How a block is stored in a table file: compression, checksum and page packing.
// engine/FORMAT.md ("Stored blocks and pages") has the measurements behind the numbers.
//
// Stored block (all integers little-endian):
//
//   payload       the block's bytes: raw, or one zstd frame (RFC 8878) with its content
//                 size in the frame header and no zstd checksum
//   type          1 byte: CompressionType of the payload
//   checksum      fixed32: checksum(payload | type, file_number, offset) (format/checksum.h),
//                 offset = file offset of the block's first byte
//
// Pages: every stored block starts on a 4 KiB page boundary and is followed by zero bytes
// up to the next boundary, so reading a block is one aligned read of
// pages_for(stored_size) whole pages. The table's index records (offset, stored_size);
// padding is neither checksummed nor read back. Nearly every block is exactly one page:
// the table builder cuts a block when PageFitEstimator predicts that its stored form
// would pass a target just under a page, and emit_page_block gives entries back to the
// next block when the prediction was wrong.
//
// Compression rule: a block is kept zstd-compressed only when that takes fewer pages than
// storing it raw; bytes saved inside a page save neither disk nor IO, they only cost a
// decompression on every read. Blocks larger than kMaxBlockSize (a single oversized entry)
// are always raw, so a reader never decompresses more than kMaxBlockSize bytes: a declared
// content size above it is corruption, never an allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/table/block.h"
#include "engine/table/block_builder.h"
#include "src/runtime/result.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace cascade::engine {

// Written to disk: values never change meaning.
enum class CompressionType : std::uint8_t {
  kNone = 0,
  kZstd = 1,
};

constexpr std::size_t kPageSize = 4096;
constexpr std::size_t kStoredBlockTrailerSize = 5;  // type + checksum
constexpr std::size_t kPagePayloadCapacity = kPageSize - kStoredBlockTrailerSize;

constexpr std::size_t pages_for(std::size_t stored_size) {
  return (stored_size + kPageSize - 1) / kPageSize;
}
constexpr std::size_t padded_size(std::size_t stored_size) {
  return pages_for(stored_size) * kPageSize;
}

struct CompressionOptions {
  CompressionType type = CompressionType::kZstd;
  int zstd_level = 3;
  // The estimator plans a compressed block only when blocks are expected to shrink by at
  // least this fraction; otherwise it fills raw blocks to exactly one page.
  double min_saving = 0.125;
  std::size_t max_block_size = kMaxBlockSize;  // uncompressed cap, at most kMaxBlockSize
};

struct StoredBlockInfo {
  CompressionType type = CompressionType::kNone;
  std::size_t raw_size = 0;
  std::size_t compressed_size = 0;  // zstd output size, 0 when compression was not tried
  std::size_t stored_size = 0;      // payload + trailer
};

// Compresses blocks for one table builder, reusing one zstd context.
class BlockCompressor {
 public:
  explicit BlockCompressor(const CompressionOptions& options);
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;

  // Appends the stored form of `raw` (to be written at `offset` of file `file_number`)
  // to `out` and says how it was stored.
  StoredBlockInfo compress(std::string_view raw, std::uint64_t file_number, std::uint64_t offset,
                           std::string& out);

 private:
  CompressionOptions options_;
  ZSTD_CCtx_s* cctx_;
  std::string scratch_;
  std::uint64_t one_page_blocks_ = 0;
};

// Verifies and decompresses stored blocks, reusing one zstd context (one per shard).
class BlockDecoder {
 public:
  BlockDecoder();
  ~BlockDecoder();
  BlockDecoder(const BlockDecoder&) = delete;
  BlockDecoder& operator=(const BlockDecoder&) = delete;

  // `stored` is exactly the stored block (no padding). Corruption on a checksum mismatch
  // or a malformed payload; NotSupported for a compression type this build does not know.
  // A raw block's contents view `stored`, which must outlive them.
  Result<BlockContents> decode(std::string_view stored, std::uint64_t file_number,
                               std::uint64_t offset);

 private:
  ZSTD_DCtx_s* dctx_;
};

// One-shot forms of the above, for tools and tests (each creates a zstd context).
std::string compress_block(std::string_view raw, const CompressionOptions& options,
                           std::uint64_t file_number, std::uint64_t offset);
Result<BlockContents> decode_stored_block(std::string_view stored, std::uint64_t file_number,
                                          std::uint64_t offset);

// How PageFitEstimator aims (defaults measured by bench-engine-block, see FORMAT.md).
struct PageFitTuning {
  // The stored size (payload + trailer) a compressed block aims at. Close to the page:
  // emit_page_block gives entries back when a block overflows, so a miss costs one more
  // compression, not a second page.
  std::size_t target_stored_size = 4040;
  // Weight of the newest block in the predicted compression ratio.
  double smoothing = 0.25;
  double initial_ratio = 1.0;  // e.g. the previous table's final ratio
};

// Tells the table builder when to cut a block so that its stored form fits one page.
// It predicts the compression ratio of the next block from those already finished (an
// exponentially weighted average) and turns the target stored size into an uncompressed
// size limit, never below a raw page. When blocks are not expected to save min_saving, it
// plans raw blocks that fill one page exactly (no guess involved).
class PageFitEstimator {
 public:
  explicit PageFitEstimator(const CompressionOptions& options, const PageFitTuning& tuning = {});

  std::size_t raw_size_limit() const;
  void observe(const StoredBlockInfo& info);
  double predicted_ratio() const { return ratio_; }

 private:
  CompressionOptions options_;
  PageFitTuning tuning_;
  double ratio_;
};

struct EmittedBlock {
  StoredBlockInfo info;
  std::size_t entries = 0;
  std::string last_key;  // of the emitted block, for the index
  int compressions = 0;  // 1, or more when an overflowing block gave entries back
};

// Emits the builder's block as a stored block appended to `out` (to be written at
// `offset`), fitting it to one page when the estimate was wrong: if the stored form
// overflows a page and the block has more than one entry, it emits the longest prefix
// predicted to fit (retrying with fewer entries while it does not) and leaves the rest in
// the builder for the next block. The builder is empty afterwards unless entries were
// given back. A single entry, or a raw block already under one page, is emitted as it is.
//
// Table builder loop:
//   while (!builder.empty() && builder.size_after(key, value) > estimator.raw_size_limit())
//     write(emit_page_block(builder, compressor, estimator, file, offset, out));
//   builder.add(key, value);
//   ... and at the end: while (!builder.empty()) write(emit_page_block(...));
EmittedBlock emit_page_block(BlockBuilder& builder, BlockCompressor& compressor,
                             PageFitEstimator& estimator, std::uint64_t file_number,
                             std::uint64_t offset, std::string& out);

}  // namespace cascade::engine
