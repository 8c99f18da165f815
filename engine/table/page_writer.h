// Appends page-aligned blocks to a file opened with O_DIRECT, in large aligned writes.
//
// Each appended block starts on a 4 KiB page boundary and is followed by zero bytes up to
// the next one (the stored-block rule, block_compression.h). Blocks are gathered in one
// chunk of chunk_size bytes and written when it is full, so a table is written in a few
// hundred large sequential writes instead of one write per page, each overlapping the
// encoding of the next chunk (runtime::ChunkWriter); finish() writes the last, partial
// chunk (always whole pages) and waits for every write.
//
// offset() is where the next block will start in the file: callers seed a block's
// checksum with it before appending. After a failed write every call returns that error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/chunk_writer.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

constexpr std::size_t kDefaultWriteChunkSize = 256 * 1024;

class PageWriter {
 public:
  // chunk_size is rounded up to whole pages. The file must outlive the writer.
  PageWriter(runtime::FileHandle& file, std::size_t chunk_size = kDefaultWriteChunkSize);

  std::uint64_t offset() const { return offset_; }
  // Copies `block` at offset() and pads it to whole pages.
  Status append(std::string_view block);
  // Writes what is buffered and waits for every write. The file then ends at offset().
  Status finish();
  // Waits for the write in flight (before closing the file on an error path).
  Status wait() { return chunks_.wait(); }

 private:
  Status write_chunk();

  runtime::ChunkWriter chunks_;
  std::size_t fill_ = 0;      // bytes of the chunk in use, a multiple of the page size
  std::uint64_t offset_ = 0;  // file offset of the next block
  Status status_;
};

}  // namespace cascade::engine
