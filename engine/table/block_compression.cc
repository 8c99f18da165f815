// Stored-block encoding and decoding, and the page-fit estimator (format in the header).
#include "engine/table/block_compression.h"

#include <zstd.h>

#include <algorithm>
#include <cassert>
#include <string>

#include "engine/format/checksum.h"
#include "engine/format/coding.h"

namespace cascade::engine {

namespace {

constexpr std::uint64_t kSampleEvery = 8;

std::string location(std::uint64_t file_number, std::uint64_t offset) {
  return " (file " + std::to_string(file_number) + ", offset " + std::to_string(offset) + ")";
}

}  // namespace

BlockCompressor::BlockCompressor(const CompressionOptions& options)
    : options_(options), cctx_(ZSTD_createCCtx()) {
  assert(cctx_ != nullptr);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, options_.zstd_level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0);
}

BlockCompressor::~BlockCompressor() { ZSTD_freeCCtx(cctx_); }

StoredBlockInfo BlockCompressor::compress(std::string_view raw, std::uint64_t file_number,
                                          std::uint64_t offset, std::string& out) {
  StoredBlockInfo info;
  info.raw_size = raw.size();
  std::string_view payload = raw;
  // A block under one page raw cannot save a page; compression is still tried on one such
  // block in kSampleEvery, so the estimator notices when the data becomes compressible.
  bool can_save_page = raw.size() + kStoredBlockTrailerSize > kPageSize;
  bool sample = !can_save_page && one_page_blocks_++ % kSampleEvery == 0;
  if (options_.type == CompressionType::kZstd && raw.size() <= kMaxBlockSize &&
      (can_save_page || sample)) {
    scratch_.resize(ZSTD_compressBound(raw.size()));
    std::size_t n = ZSTD_compress2(cctx_, scratch_.data(), scratch_.size(), raw.data(), raw.size());
    if (!ZSTD_isError(n)) {
      info.compressed_size = n;
      if (pages_for(n + kStoredBlockTrailerSize) < pages_for(raw.size() + kStoredBlockTrailerSize)) {
        payload = std::string_view(scratch_.data(), n);
        info.type = CompressionType::kZstd;
      }
    }
  }
  std::size_t start = out.size();
  out.append(payload);
  out.push_back(static_cast<char>(info.type));
  std::uint32_t sum = checksum(std::string_view(out).substr(start), file_number, offset);
  put_fixed32(out, sum);
  info.stored_size = out.size() - start;
  return info;
}

BlockDecoder::BlockDecoder() : dctx_(ZSTD_createDCtx()) { assert(dctx_ != nullptr); }

BlockDecoder::~BlockDecoder() { ZSTD_freeDCtx(dctx_); }

Result<BlockContents> BlockDecoder::decode(std::string_view stored, std::uint64_t file_number,
                                           std::uint64_t offset) {
  if (stored.size() < kStoredBlockTrailerSize) {
    return Status::corruption("stored block shorter than its trailer" + location(file_number, offset));
  }
  std::string_view covered = stored.substr(0, stored.size() - 4);
  if (checksum(covered, file_number, offset) != load_fixed32(stored.data() + covered.size())) {
    return Status::corruption("block checksum mismatch" + location(file_number, offset));
  }
  auto type = static_cast<std::uint8_t>(covered.back());
  std::string_view payload = covered.substr(0, covered.size() - 1);
  if (type == static_cast<std::uint8_t>(CompressionType::kNone)) {
    return BlockContents{payload, nullptr};
  }
  if (type != static_cast<std::uint8_t>(CompressionType::kZstd)) {
    return Status::not_supported("unknown block compression type " + std::to_string(type) +
                                 location(file_number, offset));
  }
  // The checksum matched, so a bad frame here means the writer was wrong; still never
  // allocate more than a block can hold.
  unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size > kMaxBlockSize) {
    return Status::corruption("bad compressed block header" + location(file_number, offset));
  }
  CacheLineBuffer buffer = allocate_cache_line_aligned(std::max<std::size_t>(size, 1));
  std::size_t n = ZSTD_decompressDCtx(dctx_, buffer.get(), size, payload.data(), payload.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::corruption("bad compressed block" + location(file_number, offset));
  }
  return BlockContents{std::string_view(buffer.get(), n), std::move(buffer)};
}

std::string compress_block(std::string_view raw, const CompressionOptions& options,
                           std::uint64_t file_number, std::uint64_t offset) {
  BlockCompressor compressor(options);
  std::string out;
  compressor.compress(raw, file_number, offset, out);
  return out;
}

Result<BlockContents> decode_stored_block(std::string_view stored, std::uint64_t file_number,
                                          std::uint64_t offset) {
  BlockDecoder decoder;
  return decoder.decode(stored, file_number, offset);
}

PageFitEstimator::PageFitEstimator(const CompressionOptions& options, const PageFitTuning& tuning)
    : options_(options), tuning_(tuning), ratio_(std::clamp(tuning.initial_ratio, 0.01, 1.0)) {
  options_.max_block_size = std::min(options_.max_block_size, kMaxBlockSize);
  tuning_.target_stored_size =
      std::clamp(tuning_.target_stored_size, kStoredBlockTrailerSize + 1, kPageSize);
}

std::size_t PageFitEstimator::raw_size_limit() const {
  std::size_t cap = options_.max_block_size;
  if (options_.type == CompressionType::kNone || ratio_ > 1.0 - options_.min_saving) {
    return std::min(cap, kPagePayloadCapacity);
  }
  // Never plan less than a raw page: a block that fits one page raw cannot do better.
  auto payload = static_cast<double>(tuning_.target_stored_size - kStoredBlockTrailerSize);
  return std::min(cap, std::max(kPagePayloadCapacity, static_cast<std::size_t>(payload / ratio_)));
}

void PageFitEstimator::observe(const StoredBlockInfo& info) {
  if (info.compressed_size == 0 || info.raw_size == 0) return;
  double sample = std::min(1.0, static_cast<double>(info.compressed_size) / info.raw_size);
  ratio_ = std::max(0.01, tuning_.smoothing * sample + (1.0 - tuning_.smoothing) * ratio_);
}

namespace {

// How many of the builder's first `count` entries to keep so that a block whose payload
// came out `payload` bytes long for `raw_size` raw bytes fits one page: scales the raw
// size by the overshoot, aiming 2% low (a shorter block compresses slightly worse).
std::size_t entries_to_keep(const BlockBuilder& builder, std::size_t count, std::size_t raw_size,
                            std::size_t payload) {
  double goal = static_cast<double>(raw_size) * 0.98 * kPagePayloadCapacity / payload;
  std::size_t keep = count - 1;
  while (keep > 1 && static_cast<double>(builder.prefix_size(keep)) > goal) --keep;
  return keep;
}

std::string last_key_of(std::string_view raw_block, const KeyComparator& order) {
  auto block = Block::open(BlockContents{raw_block, nullptr});
  if (!block) return {};
  BlockIterator it = block->iterator(order);
  it.seek_to_last();
  return std::string(it.key());
}

}  // namespace

EmittedBlock emit_page_block(BlockBuilder& builder, BlockCompressor& compressor,
                             PageFitEstimator& estimator, std::uint64_t file_number,
                             std::uint64_t offset, std::string& out) {
  const std::size_t start = out.size();
  EmittedBlock emitted;
  emitted.entries = builder.num_entries();
  std::string_view raw = builder.finish();
  emitted.info = compressor.compress(raw, file_number, offset, out);
  emitted.compressions = 1;
  estimator.observe(emitted.info);
  while (pages_for(emitted.info.stored_size) > 1 && emitted.entries > 1 &&
         emitted.info.compressed_size > 0) {
    std::size_t payload = std::min(emitted.info.compressed_size, raw.size());
    emitted.entries = entries_to_keep(builder, emitted.entries, raw.size(), payload);
    raw = builder.prefix_block(emitted.entries);
    out.resize(start);
    emitted.info = compressor.compress(raw, file_number, offset, out);
    ++emitted.compressions;
  }
  if (emitted.entries == builder.num_entries()) {
    emitted.last_key = builder.last_key();
    builder.reset();
  } else {
    emitted.last_key = last_key_of(raw, builder.comparator());
    builder.remove_first(emitted.entries);
  }
  return emitted;
}

}  // namespace cascade::engine
