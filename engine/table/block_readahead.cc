// The readahead window of a forward table scan (block_readahead.h).
#include "engine/table/block_readahead.h"

#include <algorithm>
#include <string>

namespace cascade::engine {

void BlockReadahead::note(const BlockHandle& handle) {
  continues_ = handle.offset == next_offset_;
  next_offset_ = handle.padded_end();
}

Result<std::string_view> BlockReadahead::read(runtime::FileHandle& file,
                                              std::uint64_t file_number,
                                              const BlockHandle& handle, BlockReadStats& stats) {
  if (!holds(handle)) {
    readahead_ = continues_ ? std::clamp(readahead_ * 2, kInitialBlockReadahead,
                                         kMaxBlockReadahead)
                            : 0;
    std::uint64_t end = std::max(handle.padded_end(),
                                 std::min<std::uint64_t>(handle.padded_end() + readahead_, limit_));
    std::size_t size = static_cast<std::size_t>(end - handle.offset);
    if (pages_.size() < size) pages_ = runtime::AlignedBuffer::uninitialized(size);
    length_ = 0;
    auto n = file.read_at(handle.offset, pages_.first(size));
    if (!n) return n.error();
    stats.reads++;
    stats.bytes += size;
    start_ = handle.offset;
    length_ = *n;
    if (!holds(handle)) {
      return Status::corruption("table: block at offset " + std::to_string(handle.offset) +
                                " of file " + std::to_string(file_number) +
                                " is past end of file");
    }
  }
  return std::string_view(reinterpret_cast<const char*>(pages_.data()) + (handle.offset - start_),
                          handle.stored_size);
}

}  // namespace cascade::engine
