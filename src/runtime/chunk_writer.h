// ChunkWriter: a file written front to back in large aligned chunks, the next chunk
// filled while the last one is on its way to the disk.
//
// Why: a flush or compaction alternates CPU (encoding, compressing) with writes. Written in
// place, each 256 KiB write leaves the thread idle for its whole latency, about half a
// flush's time on a virtual disk. Here the caller fills buffer() and calls submit(); the
// chunk is written from a fiber of its own while the caller fills the other buffer.
//
// Invariants: at most one write is in flight; submit() joins it before handing its buffer
// back, so a buffer is never refilled while the kernel may still read it. Chunks land at
// consecutive offsets from `start_offset`. Outside a scheduler fiber (tools, plain tests)
// every write is made in place, with the same results.
//
// Errors: a failed write is returned by the next submit() or by wait(), and by every call
// after it. wait() joins the write in flight: call it before syncing the file. The
// destructor joins too, so no write outlives its buffer; the caller must not destroy the
// file first.
//
// One fiber at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/fiber.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::runtime {

class ChunkWriter {
 public:
  // chunk_size is rounded up to whole pages.
  ChunkWriter(FileHandle& file, std::size_t chunk_size, std::uint64_t start_offset = 0);
  ~ChunkWriter();
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  // The chunk being filled: chunk_size() bytes, holding whatever an earlier chunk left.
  std::span<std::byte> buffer() { return buffers_[current_].span(); }
  std::size_t chunk_size() const { return buffers_[0].size(); }

  // Writes buffer()'s first `length` bytes (whole pages) at the next offset and switches
  // to the other buffer. The status of the write before this one.
  Status submit(std::size_t length);
  // Joins the write in flight; the first error of any write.
  Status wait();

  // Where the next submitted chunk will land.
  std::uint64_t next_offset() const { return next_offset_; }

 private:
  FileHandle& file_;
  AlignedBuffer buffers_[2];
  int current_ = 0;
  std::uint64_t next_offset_;
  FiberHandle in_flight_;
  Status in_flight_status_;  // set by the writing fiber before it ends
  Status status_;
};

}  // namespace cascade::runtime
