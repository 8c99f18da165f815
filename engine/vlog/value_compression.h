// Optional zstd compression of one value-log value.
//
// A value is stored compressed only when that saves at least `min_saving` of its size
// (CompressionOptions, shared with tables); otherwise it is stored raw, so reading an
// incompressible value costs no decompression. The stored form is one zstd frame with
// its content size in the frame header and no zstd checksum (the record's own checksum
// covers it). A reader knows the raw size from the record header and refuses a frame that
// disagrees with it: Corruption, never a larger allocation than the header declared.
//
// Values that do not compress are soon not tried. A value that zstd cannot shrink by
// min_saving costs a whole compression for nothing (4.2 us for a 4 KiB random value at
// level 3 on the development machine, on the write path: a fifth of what a 4 KiB SET costs
// the server), and a writer's values tend to be alike (images, encrypted or already
// compressed payloads). So after kMissesBeforeSkipping rejected values in a row the
// compressor stores the next values raw without trying, for a stretch that doubles with
// each rejected try after it, up to kMaxSkip values; a value that compresses ends the
// stretch and the count. A stream of incompressible values is then tried about once per
// kMaxSkip + 1 values; a compressible value after them waits at most kMaxSkip values to be
// compressed again. Values stored raw read back as raw ones always did.
//
// One ValueCompressor per writer (it owns a zstd context and the skip state);
// decompress_value is stateless apart from a context per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/block_compression.h"
#include "src/runtime/result.h"

namespace cascade::engine {

// What a shard's value-log writers did with the values they were given, summed over them
// (INFO's storage_vlog_* compression fields).
struct ValueCompressionStats {
  std::uint64_t compressed = 0;      // stored compressed
  std::uint64_t incompressible = 0;  // tried, saved less than min_saving: stored raw
  std::uint64_t skipped = 0;         // stored raw without trying (see above)

  ValueCompressionStats& operator+=(const ValueCompressionStats& other) {
    compressed += other.compressed;
    incompressible += other.incompressible;
    skipped += other.skipped;
    return *this;
  }
};

class ValueCompressor {
 public:
  // The compressor counts every value given to it (of at least the minimum compressible
  // size) into `stats`, which must outlive it, or into counts of its own.
  explicit ValueCompressor(const CompressionOptions& options,
                           ValueCompressionStats* stats = nullptr);
  ~ValueCompressor();
  ValueCompressor(const ValueCompressor&) = delete;
  ValueCompressor& operator=(const ValueCompressor&) = delete;

  static constexpr std::uint32_t kMissesBeforeSkipping = 4;
  static constexpr std::uint32_t kMaxSkip = 64;

  // The compression type used for `value`; when kZstd, `out` holds the frame.
  CompressionType compress(std::string_view value, std::string& out);

  // The counts it adds to; values given to zstd are the compressed and incompressible ones.
  const ValueCompressionStats& stats() const { return *stats_; }
  std::uint64_t attempts() const { return stats_->compressed + stats_->incompressible; }
  std::uint64_t skipped() const { return stats_->skipped; }

 private:
  void rejected();

  CompressionOptions options_;
  ZSTD_CCtx_s* cctx_ = nullptr;
  ValueCompressionStats own_stats_;
  ValueCompressionStats* stats_;  // the caller's, or &own_stats_
  std::uint32_t misses_ = 0;     // rejected values in a row
  std::uint32_t stretch_ = 0;    // the current skipping stretch's length (0: none yet)
  std::uint32_t skip_left_ = 0;  // values still to store without trying
};

// Batches of large values. ValueCompressor compresses each value in one call, inside the
// write's stretch without suspension (DB::begin_write), which is fine for the usual value
// but held the shard's thread ~0.1 s for a 64 MiB one, and as long for a pipeline of 64
// values of 1 MiB: every other client of the shard waited. When a batch's logged values
// come to kLargeValueSize bytes or more, each of them is compressed by this class instead,
// before the write takes its sequences, a large one in pieces of kPieceSize with
// `between_pieces` (the caller's yield) after each, and the appender stores the results as
// given (VlogAppender::append_stored). The rule is ValueCompressor's: stored compressed
// only when that saves min_saving.
//   - A sample (the first kSampleSize bytes, compressed alone) must save min_saving, or
//     the value is stored raw without compressing the rest: an incompressible 64 MiB
//     value would otherwise cost ~0.15 s of zstd for nothing. A value whose start does
//     not compress but whose rest would is stored raw: allowed, only less compact. A value
//     no longer than the sample is compressed once, the sample's frame being its own.
//   - The compression stops as soon as its output passes the whole value's limit.
// No skipping stretches (values in such batches are tried each time). Nothing is counted
// here: the caller counts a value once its write can no longer fail (ValueCompressionStats,
// from `tried` and `type`). Several fibers may compress at once, so each call takes a zstd
// context of its own from a small pool.
struct StoredValue {
  CompressionType type = CompressionType::kNone;
  bool tried = false;             // given to zstd (kNone then means: did not save enough)
  std::unique_ptr<char[]> frame;  // the zstd frame when type is kZstd
  std::size_t frame_size = 0;

  std::string_view stored(std::string_view raw) const {
    return type == CompressionType::kZstd ? std::string_view(frame.get(), frame_size) : raw;
  }
};

class LargeValueCompressor {
 public:
  static constexpr std::size_t kLargeValueSize = std::size_t{1} << 20;
  static constexpr std::size_t kPieceSize = std::size_t{1} << 20;
  static constexpr std::size_t kSampleSize = std::size_t{128} << 10;

  explicit LargeValueCompressor(const CompressionOptions& options);
  ~LargeValueCompressor();
  LargeValueCompressor(const LargeValueCompressor&) = delete;
  LargeValueCompressor& operator=(const LargeValueCompressor&) = delete;

  // The stored form of `value`. `between_pieces` runs between pieces of a value longer
  // than the sample (it may suspend; the value must stay valid meanwhile).
  StoredValue compress(std::string_view value, const std::function<void()>& between_pieces);

 private:
  ZSTD_CCtx_s* take_context();
  void give_back(ZSTD_CCtx_s* context);

  CompressionOptions options_;
  std::vector<ZSTD_CCtx_s*> free_contexts_;
};

// Appends the `raw_size` bytes that `stored` (one zstd frame) decompresses to.
Status decompress_value(std::string_view stored, std::size_t raw_size, std::string& out);

}  // namespace cascade::engine
