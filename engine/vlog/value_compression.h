// Optional zstd compression of one value-log value.
//
// A value is stored compressed only when that saves at least `min_saving` of its size
// (CompressionOptions, shared with tables); otherwise it is stored raw, so reading an
// incompressible value costs no decompression. The stored form is one zstd frame with
// its content size in the frame header and no zstd checksum (the record's own checksum
// covers it). A reader knows the raw size from the record header and refuses a frame that
// disagrees with it: Corruption, never a larger allocation than the header declared.
//
// One ValueCompressor per writer (it owns a zstd context); decompress_value is stateless
// apart from a context per call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/table/block_compression.h"
#include "src/runtime/result.h"

namespace cascade::engine {

class ValueCompressor {
 public:
  explicit ValueCompressor(const CompressionOptions& options);
  ~ValueCompressor();
  ValueCompressor(const ValueCompressor&) = delete;
  ValueCompressor& operator=(const ValueCompressor&) = delete;

  // The compression type used for `value`; when kZstd, `out` holds the frame.
  CompressionType compress(std::string_view value, std::string& out);

 private:
  CompressionOptions options_;
  ZSTD_CCtx_s* cctx_ = nullptr;
};

// Appends the `raw_size` bytes that `stored` (one zstd frame) decompresses to.
Status decompress_value(std::string_view stored, std::size_t raw_size, std::string& out);

}  // namespace cascade::engine
