// The WAL's segment files: creating them, checking their header pages, and page IO.
//
// Creation (when `dir` holds no wal-*.log file): each of the segment_count files is created,
// preallocated to segment_size (allocate, so later writes cannot fail for space), given its
// header page and synced; then the directory is synced. Only then may records be written,
// so a WAL whose files are missing or have no valid header page but hold no record either
// (page 1 is zeros everywhere) is an interrupted creation and is made again. Missing files
// or bad headers next to records are Corruption.
//
// An existing WAL keeps the geometry its header pages declare (count, size, wal id): the
// options' geometry applies only to a WAL being created.
//
// All IO goes through runtime::FileSystem with whole pages at page offsets from
// AlignedBuffers: O_DIRECT, but for write_buffered (the page cache, for logs not synced at
// every write). A segment set belongs to one shard.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/wal/wal_format.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

class WalSegments {
 public:
  // Opens the WAL in `dir` (which must exist), creating it with `wanted`'s count and size
  // when there is none.
  static Result<WalSegments> open(runtime::FileSystem& fs, const std::string& dir,
                                  const WalGeometry& wanted);

  const WalGeometry& geometry() const { return geometry_; }
  runtime::FileHandle& file(std::uint32_t segment) { return *files_[segment]; }

  // Reads [offset, offset + buffer.size()) of a segment; bytes past the file's end read as
  // zeros. offset and size are whole pages.
  Status read(std::uint32_t segment, std::uint64_t offset, std::span<std::byte> buffer);
  Status write(std::uint32_t segment, std::uint64_t offset, std::span<const std::byte> pages);
  // A write a process crash cannot lose but a power loss can until sync()
  // (FileHandle::write_buffered_at).
  Status write_buffered(std::uint32_t segment, std::uint64_t offset,
                        std::span<const std::byte> pages);
  Status sync(std::uint32_t segment);
  // A write durable when it returns (FileHandle::write_durable_at).
  Status write_durable(std::uint32_t segment, std::uint64_t offset,
                       std::span<const std::byte> pages);
  Status close();

 private:
  WalSegments(WalGeometry g, std::vector<std::unique_ptr<runtime::FileHandle>> files)
      : geometry_(g), files_(std::move(files)) {}

  WalGeometry geometry_;
  std::vector<std::unique_ptr<runtime::FileHandle>> files_;
};

}  // namespace cascade::engine
