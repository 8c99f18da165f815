// VlogWriter: writes one value-log file (vlog_format.h) through an O_DIRECT FileHandle.
//
// The header page is buffered at construction; add() appends a record (compressing the
// value when that pays) and returns its pointer; finish() pads to a page boundary,
// appends the footer page, writes what is buffered and syncs the file. Bytes are gathered
// in chunks of chunk_size bytes and written a whole chunk at a time, so every write is
// 4 KiB-aligned in offset, length and memory, a flush writes its values in a few large
// sequential writes, and each write overlaps compressing the next chunk's values
// (runtime::ChunkWriter).
//
// After a failed write every call returns that error; the caller removes the file (it is
// not in any version yet). One fiber at a time; writes suspend the calling fiber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/table/block_compression.h"
#include "engine/vlog/value_compression.h"
#include "engine/vlog/value_pointer.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/chunk_writer.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

inline constexpr std::size_t kVlogWriteChunkSize = 256 * 1024;

class VlogWriter {
 public:
  // The file must outlive the writer. chunk_size is rounded up to whole pages.
  VlogWriter(runtime::FileHandle& file, std::uint64_t file_number,
             const CompressionOptions& compression, std::size_t chunk_size = kVlogWriteChunkSize,
             ValueCompressionStats* stats = nullptr);

  Result<ValuePointer> add(std::string_view key, std::string_view value);
  // Appends a record whose value is already in its stored form (a relocated record's
  // bytes: `stored` is `value_size` bytes once decompressed as `compression` says), so a
  // move never decompresses and compresses again. The checksum is the new record's own.
  Result<ValuePointer> add_stored(std::string_view key, CompressionType compression,
                                  std::uint64_t value_size, std::string_view stored);
  // Writes the footer and everything buffered, then syncs. Returns the file's size.
  Result<std::uint64_t> finish();

  std::uint64_t file_number() const { return file_number_; }
  // The file's size if finished now: the bytes so far plus padding and footer.
  std::uint64_t estimated_file_size() const {
    return runtime::align_up(offset_) + kPageSize;
  }
  std::uint64_t record_count() const { return record_count_; }
  // The file offset the next record will take.
  std::uint64_t offset() const { return offset_; }

 private:
  Status append(std::string_view bytes);
  Status write_chunk();

  runtime::FileHandle& file_;
  const std::uint64_t file_number_;
  ValueCompressor compressor_;
  runtime::ChunkWriter chunks_;
  std::size_t fill_ = 0;      // bytes of the chunk in use
  std::uint64_t offset_ = 0;  // file offset of the next byte
  std::uint64_t record_count_ = 0;
  std::string record_;      // reused per record
  std::string compressed_;  // reused per record
  Status status_;
};

}  // namespace cascade::engine
