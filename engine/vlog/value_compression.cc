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
// A compression context for value frames: the configured level, the content size in the
// frame header (decompress_value requires it), no zstd checksum (the record has its own).
// Null when zstd cannot allocate one.
ZSTD_CCtx* new_value_context(const CompressionOptions& options) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  if (context == nullptr) return nullptr;
  ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, options.zstd_level);
  ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 0);
  return context;
}

// The largest stored frame that still saves min_saving of `size` bytes.
std::size_t compressed_limit(std::size_t size, double min_saving) {
  return size - static_cast<std::size_t>(static_cast<double>(size) * min_saving);
}
}  // namespace

ValueCompressor::ValueCompressor(const CompressionOptions& options, ValueCompressionStats* stats)
    : options_(options), stats_(stats != nullptr ? stats : &own_stats_) {
  if (options_.type == CompressionType::kZstd) cctx_ = new_value_context(options_);
}

ValueCompressor::~ValueCompressor() { ZSTD_freeCCtx(cctx_); }

CompressionType ValueCompressor::compress(std::string_view value, std::string& out) {
  if (cctx_ == nullptr || value.size() < kMinCompressibleSize) return CompressionType::kNone;
  if (skip_left_ > 0) {
    --skip_left_;
    ++stats_->skipped;
    return CompressionType::kNone;
  }
  const std::size_t limit = compressed_limit(value.size(), options_.min_saving);
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

LargeValueCompressor::LargeValueCompressor(const CompressionOptions& options)
    : options_(options) {}

LargeValueCompressor::~LargeValueCompressor() {
  for (ZSTD_CCtx* context : free_contexts_) ZSTD_freeCCtx(context);
}

ZSTD_CCtx* LargeValueCompressor::take_context() {
  if (free_contexts_.empty()) return new_value_context(options_);
  ZSTD_CCtx* context = free_contexts_.back();
  free_contexts_.pop_back();
  ZSTD_CCtx_reset(context, ZSTD_reset_session_only);
  return context;
}

void LargeValueCompressor::give_back(ZSTD_CCtx* context) {
  if (context == nullptr) return;
  // One kept per fiber that compressed at once; more than a few would only hold memory.
  if (free_contexts_.size() >= 2) {
    ZSTD_freeCCtx(context);
    return;
  }
  free_contexts_.push_back(context);
}

StoredValue LargeValueCompressor::compress(std::string_view value,
                                           const std::function<void()>& between_pieces) {
  StoredValue result;
  if (options_.type != CompressionType::kZstd || value.size() < kMinCompressibleSize) {
    return result;
  }
  ZSTD_CCtx* context = take_context();
  if (context == nullptr) return result;  // no memory for zstd: stored raw, still correct
  struct GiveBack {
    LargeValueCompressor& owner;
    ZSTD_CCtx* context;
    ~GiveBack() { owner.give_back(context); }
  } give_back_on_exit{*this, context};
  result.tried = true;

  // The sample: a frame of its own, the same level, the same saving rule. The frame header
  // carries the content size (the context's parameters), as decompress_value requires, so
  // for a value no longer than the sample this frame is the value's.
  const std::size_t sample = std::min(value.size(), kSampleSize);
  {
    const std::size_t bound = ZSTD_compressBound(sample);
    auto out = std::make_unique_for_overwrite<char[]>(bound);
    const std::size_t n = ZSTD_compress2(context, out.get(), bound, value.data(), sample);
    if (ZSTD_isError(n) || n > compressed_limit(sample, options_.min_saving)) return result;
    if (sample == value.size()) {
      result.type = CompressionType::kZstd;
      result.frame = std::move(out);
      result.frame_size = n;
      return result;
    }
    ZSTD_CCtx_reset(context, ZSTD_reset_session_only);
  }
  between_pieces();

  const std::size_t limit = compressed_limit(value.size(), options_.min_saving);
  if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(context, value.size()))) return result;
  const std::size_t bound = ZSTD_compressBound(value.size());
  auto frame = std::make_unique_for_overwrite<char[]>(bound);
  ZSTD_outBuffer out{frame.get(), bound, 0};
  for (std::size_t at = 0; at < value.size();) {
    const std::size_t piece = std::min(value.size() - at, kPieceSize);
    const bool last = at + piece == value.size();
    ZSTD_inBuffer in{value.data() + at, piece, 0};
    const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    std::size_t left = 0;
    do {
      left = ZSTD_compressStream2(context, &out, &in, mode);
      if (ZSTD_isError(left)) return result;
    } while (last ? left != 0 : in.pos < in.size);
    at += piece;
    if (out.pos > limit) return result;
    if (!last) between_pieces();
  }
  result.type = CompressionType::kZstd;
  result.frame = std::move(frame);
  result.frame_size = out.pos;
  return result;
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
