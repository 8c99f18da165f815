#include "engine/vlog/value_compression.h"

#include <zstd.h>

#include <algorithm>

namespace cascade::engine {

namespace {
// Below this a zstd frame's own header eats any saving.
constexpr std::size_t kMinCompressibleSize = 64;

// One decompression context per thread, made on first use: creating a context costs more
// than decompressing a 4 KiB value (it was 6% of a value-log overwrite's profile). Sharing
// it between a thread's fibers is safe because ZSTD_decompressDCtx never suspends.
// Null when zstd cannot allocate one; the next call tries again.
ZSTD_DCtx* thread_decompression_context() {
  struct Holder {
    ZSTD_DCtx* context = nullptr;
    ~Holder() { ZSTD_freeDCtx(context); }
  };
  thread_local Holder holder;
  if (holder.context == nullptr) holder.context = ZSTD_createDCtx();
  return holder.context;
}
}  // namespace

ValueCompressor::ValueCompressor(const CompressionOptions& options, ValueCompressionStats* stats)
    : options_(options), stats_(stats != nullptr ? stats : &own_stats_) {
  if (options_.type == CompressionType::kZstd) {
    cctx_ = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, options_.zstd_level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0);
  }
}

ValueCompressor::~ValueCompressor() { ZSTD_freeCCtx(cctx_); }

CompressionType ValueCompressor::compress(std::string_view value, std::string& out) {
  if (cctx_ == nullptr || value.size() < kMinCompressibleSize) return CompressionType::kNone;
  if (skip_left_ > 0) {
    --skip_left_;
    ++stats_->skipped;
    return CompressionType::kNone;
  }
  const auto saving =
      static_cast<std::size_t>(static_cast<double>(value.size()) * options_.min_saving);
  const std::size_t limit = value.size() - saving;
  out.resize(ZSTD_compressBound(value.size()));
  std::size_t n = ZSTD_compress2(cctx_, out.data(), out.size(), value.data(), value.size());
  if (ZSTD_isError(n) || n > limit) {
    ++stats_->incompressible;
    rejected();
    return CompressionType::kNone;
  }
  ++stats_->compressed;
  misses_ = 0;
  stretch_ = 0;
  out.resize(n);
  return CompressionType::kZstd;
}

// Past kMissesBeforeSkipping misses in a row, each further miss starts a stretch twice as
// long as the last (1, 2, 4 ... kMaxSkip values).
void ValueCompressor::rejected() {
  if (++misses_ < kMissesBeforeSkipping) return;
  stretch_ = stretch_ == 0 ? 1 : std::min(kMaxSkip, stretch_ * 2);
  skip_left_ = stretch_;
}

Status decompress_value(std::string_view stored, std::size_t raw_size, std::string& out) {
  unsigned long long declared = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN ||
      declared != raw_size) {
    return Status::corruption("value log: zstd frame size disagrees with the record header");
  }
  std::size_t start = out.size();
  out.resize(start + raw_size);
  ZSTD_DCtx* dctx = thread_decompression_context();
  if (dctx == nullptr) {
    out.resize(start);
    return Status::io_error("value log: no memory for a zstd decompression context");
  }
  std::size_t n =
      ZSTD_decompressDCtx(dctx, out.data() + start, raw_size, stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_size) {
    out.resize(start);
    return Status::corruption("value log: damaged zstd frame");
  }
  return Status::ok();
}

}  // namespace cascade::engine
