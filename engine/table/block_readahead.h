// BlockReadahead: the readahead window of one forward scan over a table's data blocks, so a
// scan over blocks the cache does not hold costs a few large aligned reads instead of one
// blocking read per page.
//
// Why it works: a table's data blocks lie one after another, each starting on a page and
// padded to whole pages (table_format.h), so a forward scan asks for blocks whose offset is
// where the previous block's pages end. The scan notes every block it asks for, cached or
// not (note()); a block starting where the previous one ended continues the scan. A block
// the cache misses is served from the window when the window holds all its stored bytes;
// otherwise a new window is read, starting at the block: its own pages plus the readahead.
// The readahead is 0 for a block that does not continue a scan (the first block after a
// seek, a backward step: one block, as without readahead) and, for one that does, doubles
// on every window read from kInitialBlockReadahead up to kMaxBlockReadahead, so a short
// scan reads little and a long one settles on 256 KiB reads. Windows never extend past
// `limit` (the end of the data blocks: index pages are the cache's business).
//
// Views: read() hands out the stored block as a view into the window, valid until the
// next read(); the caller decodes it (decompressing, or copying a raw block) first.
// Memory: one buffer of at most kMaxBlockReadahead bytes (more only for a block that alone
// is larger), allocated by the first window and reused; a scan that never continues past
// its first block allocates none. Window bytes are not checked as a whole: every block is
// verified by its own checksum when decoded, as without readahead.
//
// One iterator's: one fiber at a time. read() suspends the calling fiber on IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "engine/table/table_format.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::size_t kInitialBlockReadahead = 16 * 1024;
inline constexpr std::size_t kMaxBlockReadahead = 256 * 1024;

struct BlockReadStats {
  std::uint64_t reads = 0;  // aligned reads issued
  std::uint64_t bytes = 0;  // bytes read, whole pages
};

class BlockReadahead {
 public:
  // `limit`: the file offset where the table's data blocks end.
  explicit BlockReadahead(std::uint64_t limit) : limit_(limit) {}
  BlockReadahead(const BlockReadahead&) = delete;
  BlockReadahead& operator=(const BlockReadahead&) = delete;

  // The scan asks for the block at `handle` next (whether the cache holds it or not).
  void note(const BlockHandle& handle);

  // The stored bytes of the block at `handle` (exactly stored_size of them) from the
  // window, reading a new window first when it does not hold them; the reads issued are
  // added to `stats`. Fewer bytes in the file than the handle needs is Corruption.
  Result<std::string_view> read(runtime::FileHandle& file, std::uint64_t file_number,
                                const BlockHandle& handle, BlockReadStats& stats);

  std::size_t readahead() const { return readahead_; }

 private:
  bool holds(const BlockHandle& handle) const {
    return handle.offset >= start_ && handle.offset + handle.stored_size <= start_ + length_;
  }

  std::uint64_t limit_;
  // Where the pages of the last noted block end; none noted yet: no offset matches.
  std::uint64_t next_offset_ = std::numeric_limits<std::uint64_t>::max();
  bool continues_ = false;         // the last noted block started at the previous one's end
  std::size_t readahead_ = 0;      // bytes read past the block by the next window
  runtime::AlignedBuffer pages_;
  std::uint64_t start_ = 0;  // file offset of the window's first byte
  std::size_t length_ = 0;   // bytes of the window read (0: no window)
};

}  // namespace cascade::engine
