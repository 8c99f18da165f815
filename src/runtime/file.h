// Files through the shard's io_uring reactor.
//
// Every call submits its operation on Reactor::current() (the calling thread's reactor, which
// the File remembers at open) and suspends the calling fiber until the completion arrives;
// outside a fiber it blocks the thread instead (see reactor.h). Consequences callers rely on:
//
// - Ordering. A call returns only after its operation completed, so an fsync()/fdatasync()
//   issued after write_at() returned covers that write. The kernel does not order an fsync
//   after writes that are still in flight on the ring; this API never leaves any in flight.
//   Writes made concurrently by several fibers must all have returned before the fsync that
//   is meant to cover them is issued: the caller joins them first.
// - Completeness. read_at/readv_at loop over short reads and return fewer bytes than asked
//   only at end of file; write_at/writev_at loop until everything is written or fail.
//   EINTR and EAGAIN completions are retried.
// - O_DIRECT (OpenOptions::direct): buffers, offsets and lengths must be 4 KiB-aligned (use
//   AlignedBuffer); reads may use the finer read_alignment() for offsets and lengths. A
//   direct read that ends short and unaligned has reached end of file, as O_DIRECT
//   transfers whole blocks everywhere else.
// - Errors are Status values naming the syscall and the path; ENOSPC/EDQUOT map to kNoSpace,
//   ENOENT to kNotFound (Status::from_errno). After a failed fsync the data is in doubt:
//   callers must not retry it and call it a success.
// - Data operations (read, write, fsync, fallocate) count against the reactor's disk
//   in-flight limit; open, close and the directory operations do not.
//
// Concurrency: a File belongs to the shard thread that opened it. Several fibers may issue
// reads on one File at once; the destructor closes the descriptor synchronously, so call
// close() to see close's error.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/result.h"

namespace cascade::runtime {

class Reactor;

struct OpenOptions {
  enum class Access : std::uint8_t { kRead, kWrite, kReadWrite };
  Access access = Access::kRead;
  bool create = false;     // O_CREAT
  bool exclusive = false;  // O_EXCL (with create): fail if the file exists
  bool truncate = false;   // O_TRUNC
  bool append = false;     // O_APPEND
  bool direct = false;     // O_DIRECT: 4 KiB-aligned buffers, offsets and lengths
  mode_t mode = 0644;      // for a created file

  static OpenOptions read_only() { return {}; }
  static OpenOptions read_write_create() {
    OpenOptions o;
    o.access = Access::kReadWrite;
    o.create = true;
    return o;
  }
};

class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens `path` (IORING_OP_OPENAT). A missing file without `create` is kNotFound.
  static Result<File> open(const std::string& path, const OpenOptions& options);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool direct() const { return direct_; }
  // The offset and length granularity of this file's O_DIRECT reads: the device's logical
  // block (statx STATX_DIOALIGN, 512 bytes on most disks), asked once at open; kPageSize
  // when the kernel does not say or the file is not direct. Memory stays 4 KiB-aligned
  // (AlignedBuffer), which every device accepts. A value-log read fetches the sectors
  // around its record, not the pages: about 4.5 KiB instead of 8 for a 4 KiB value.
  std::uint32_t read_alignment() const { return read_alignment_; }

  // Reads up to buffer.size() bytes at `offset`; fewer only at end of file (0 at or past it).
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer);
  Result<std::size_t> readv_at(std::uint64_t offset, std::span<const iovec> iov);
  // Writes all of `data` at `offset`.
  Status write_at(std::uint64_t offset, std::span<const std::byte> data);
  // write_at() with RWF_DSYNC: each write returns once its data (and the metadata needed
  // to read it back) is durable, in one device round trip where the device can force that
  // write alone (FUA). Writes made before it without a sync are not covered.
  Status write_dsync_at(std::uint64_t offset, std::span<const std::byte> data);
  Status writev_at(std::uint64_t offset, std::span<const iovec> iov);
  // Writes all of `data` at `offset` into the page cache: a pwrite(2) on the calling thread,
  // not through the ring, and on a second, buffered descriptor when the file is O_DIRECT
  // (opened on first use). Once it returns the data survives this process's crash (the
  // kernel holds it) but not a power loss until the next fsync()/fdatasync(), which also
  // drops the pages from the cache again. Why: a direct write costs a device round trip
  // (on a virtual machine a doorbell exit and an interrupt) for a promise a log synced
  // once a second does not make; Redis's appendfsync everysec write(2)s the same way. Not
  // through the ring because a buffered ext4 write that cannot complete at once is handed
  // to an io-wq worker thread, and the copy into the cache takes microseconds.
  Status write_buffered_at(std::uint64_t offset, std::span<const std::byte> data);

  Status fsync();      // data and metadata
  Status fdatasync();  // data and the metadata needed to read it back (e.g. the size)
  // fallocate(2): reserves [offset, offset + length); `mode` as fallocate's (0 extends size).
  Status allocate(std::uint64_t offset, std::uint64_t length, int mode = 0);
  Result<std::uint64_t> size();  // statx(2)

  // Closes the descriptor (IORING_OP_CLOSE). The File is closed afterwards even on error.
  Status close();

 private:
  File(Reactor* reactor, int fd, std::string path, bool direct, std::uint32_t read_alignment)
      : reactor_(reactor), fd_(fd), path_(std::move(path)), direct_(direct),
        read_alignment_(read_alignment) {}

  Status error(int res, const char* syscall) const;
  Status error_at(int res, const char* syscall, std::uint64_t offset) const;
  Status sync(unsigned fsync_flags, const char* syscall);
  Status write_with_flags(std::uint64_t offset, std::span<const std::byte> data, int rw_flags);
  void drop_buffered_pages(std::uint64_t from, std::uint64_t to);

  Reactor* reactor_ = nullptr;
  int fd_ = -1;
  // write_buffered_at's descriptor when the file is O_DIRECT (-1 until then, fd_ otherwise),
  // and the range it wrote since the last sync: [buffered_from_, buffered_to_).
  int buffered_fd_ = -1;
  std::uint64_t buffered_from_ = 0;
  std::uint64_t buffered_to_ = 0;
  std::string path_;
  bool direct_ = false;
  std::uint32_t read_alignment_ = kPageSize;
};

// Directory-level operations, through Reactor::current() like File's.
Status rename_file(const std::string& from, const std::string& to);  // renameat(2)
Status unlink_file(const std::string& path);                         // unlinkat(2)
Status remove_dir(const std::string& path);                          // unlinkat(AT_REMOVEDIR)
// mkdirat(2). With exist_ok, an existing directory is not an error (another file is).
Status make_dir(const std::string& path, mode_t mode = 0755, bool exist_ok = true);
// fsync(2) of a directory: makes its entries (created, renamed, removed files) durable.
Status sync_dir(const std::string& path);

}  // namespace cascade::runtime
