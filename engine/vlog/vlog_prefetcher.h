// VlogPrefetcher: resolves an iterator's value pointers with readahead, so a range scan
// over log-resident values costs a few large reads instead of one blocking read per key.
//
// Why readahead works: a flush writes its values in key order, so the entries a forward
// scan meets point into each value-log file at increasing offsets. The prefetcher keeps a
// window of pages per file (at most kMaxWindows files, least recently used replaced). A
// pointer inside its file's window is served from memory. A miss reads a new window: the
// record's pages plus the file's readahead, which starts at kInitialReadahead and doubles
// on every miss that continues a scan in the same file (lands within kMaxReadahead of the
// last window), up to kMaxReadahead (a point seek therefore reads little). A miss farther
// away is a jump and reads the record's pages alone: files of values logged at write time
// hold them in arrival order, so a scan meets their records at random offsets, and
// readahead there would read many times what it uses. The readahead lies after the
// record, or before it when the record precedes the last window (a backward scan: prev()
// meets offsets in decreasing order). A window is
// read as up to kMaxParallelReads aligned O_DIRECT reads of at least kMinReadPart bytes
// issued at once from separate fibers, and all of them are joined before resolve()
// returns: the IO stays bounded and no read outlives the call.
//
// Reads never cross the file size the iterator's version records, and every record is
// checked as ValueLog::get checks it (vlog_reader.h): Corruption, never data. Windows are
// not put in the block cache: a scan must not flush the hot set.
//
// One shard; resolve() suspends the calling fiber and must run on a fiber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/iterator/value_resolver.h"
#include "engine/version/version.h"
#include "engine/vlog/value_log.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/rate_limiter.h"

namespace cascade::engine {

// Memory: at most kMaxWindows windows of kMaxReadahead plus one record each, 4 MiB per
// iterator in the worst case (a scan over 16 files at once); a scan of one flush's data
// uses one window. 16 windows cover level 0 up to its stop trigger (DESIGN: 20 files)
// without thrashing in the common case.
inline constexpr std::size_t kInitialReadahead = 32 * 1024;
inline constexpr std::size_t kMaxReadahead = 256 * 1024;
inline constexpr std::size_t kMinReadPart = 64 * 1024;
inline constexpr std::size_t kMaxParallelReads = 4;
inline constexpr std::size_t kMaxWindows = 16;

struct VlogPrefetchStats {
  std::uint64_t resolved = 0;  // pointers resolved
  std::uint64_t windows = 0;   // windows read (misses)
  std::uint64_t reads = 0;     // IOs issued for them
  std::uint64_t bytes = 0;     // bytes asked of the file for them
};

class VlogPrefetcher final : public ValueResolver {
 public:
  // `log` must outlive the prefetcher; `version` is the iterator's.
  // `limiter` (may be null) is charged every window's bytes before they are read: GC's
  // head reads (vlog_relocation.h) pass compaction's.
  VlogPrefetcher(ValueLog& log, std::shared_ptr<const Version> version,
                 runtime::RateLimiter* limiter = nullptr)
      : log_(log), version_(std::move(version)), limiter_(limiter) {}

  Result<std::string_view> resolve(std::string_view user_key, std::string_view pointer) override;
  // The verified record `pointer` names, undecoded: views into a window, valid until the
  // next call. Value-log GC reads a moved record's head this way (vlog_relocation.h).
  Result<VlogRecord> resolve_record(std::string_view user_key, std::string_view pointer);

  const VlogPrefetchStats& stats() const { return stats_; }

 private:
  struct Window {
    OpenVlogPtr file;
    std::uint64_t start = 0;  // file offset of pages' first byte
    std::size_t length = 0;   // bytes of pages read (less than its size at end of file)
    runtime::AlignedBuffer pages;
    std::size_t readahead = kInitialReadahead;
    std::uint64_t last_use = 0;
  };

  Window* window_for(std::uint64_t file_number);
  Status fill(Window& w, const ValuePointer& p, std::uint64_t file_size);

  ValueLog& log_;
  std::shared_ptr<const Version> version_;
  runtime::RateLimiter* limiter_;
  std::vector<std::unique_ptr<Window>> windows_;
  std::uint64_t uses_ = 0;
  std::string value_;
  VlogPrefetchStats stats_;
};

// Reads [offset, offset + buffer.size()) of `file` as up to max_parts aligned reads issued
// at once (parts of at least min_part bytes), joined before returning. The number of bytes
// read, fewer only at end of file. Must run on a fiber when it issues several reads.
Result<std::size_t> read_in_parallel(runtime::FileHandle& file, std::uint64_t offset,
                                     std::span<std::byte> buffer, std::size_t max_parts,
                                     std::size_t min_part, std::uint64_t* reads_issued = nullptr);

}  // namespace cascade::engine
