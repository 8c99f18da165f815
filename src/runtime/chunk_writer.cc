// Double-buffered sequential writes (see chunk_writer.h).
#include "src/runtime/chunk_writer.h"

#include <algorithm>

#include "src/runtime/scheduler.h"

namespace cascade::runtime {

ChunkWriter::ChunkWriter(FileHandle& file, std::size_t chunk_size, std::uint64_t start_offset)
    : file_(file),
      buffers_{AlignedBuffer(align_up(std::max<std::size_t>(chunk_size, 1))),
               AlignedBuffer(align_up(std::max<std::size_t>(chunk_size, 1)))},
      next_offset_(start_offset) {}

ChunkWriter::~ChunkWriter() { (void)wait(); }

Status ChunkWriter::wait() {
  if (in_flight_.valid()) {
    in_flight_.join();
    in_flight_ = FiberHandle();
    if (status_ && !in_flight_status_) status_ = in_flight_status_;
  }
  return status_;
}

Status ChunkWriter::submit(std::size_t length) {
  if (Status s = wait(); !s) return s;
  if (length == 0) return Status::ok();
  const std::uint64_t offset = next_offset_;
  next_offset_ += length;
  std::span<const std::byte> chunk = buffers_[current_].first(length);
  Scheduler* scheduler = Scheduler::current();
  if (scheduler == nullptr || !scheduler->in_fiber()) {
    status_ = file_.write_at(offset, chunk);
    return status_;
  }
  current_ ^= 1;
  in_flight_status_ = Status::ok();
  SpawnOptions spawn;
  spawn.name = "chunk-write";
  // A flush's or compaction's write stays background work.
  spawn.priority = scheduler->current_fiber()->priority();
  in_flight_ = scheduler->spawn(
      [this, offset, chunk] { in_flight_status_ = file_.write_at(offset, chunk); }, spawn);
  // Let the write queue its request now: the caller may compute for a whole chunk before
  // it next yields, and the request reaches the kernel only once it is queued.
  scheduler->yield();
  return Status::ok();
}

}  // namespace cascade::runtime
