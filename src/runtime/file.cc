// See file.h. Every operation is one Reactor::await; the loops here exist for short
// transfers and for EINTR/EAGAIN, which the kernel may return on any completion.
#include "src/runtime/file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/iovec_cursor.h"
#include "src/runtime/reactor.h"

namespace cascade::runtime {
namespace {

// One submission moves at most this much, so its byte count fits cqe->res (an int).
constexpr std::size_t kMaxTransfer = std::size_t{1} << 30;

bool should_retry(int res) { return res == -EINTR || res == -EAGAIN; }

Reactor& this_reactor() {
  Reactor* r = Reactor::current();
  assert(r != nullptr && "file IO needs a Reactor on this thread");
  return *r;
}

Status path_error(int res, const char* syscall, const std::string& path) {
  return Status::from_errno(res, std::string(syscall) + " " + path);
}

int open_flags(const OpenOptions& o) {
  int flags = O_CLOEXEC;
  switch (o.access) {
    case OpenOptions::Access::kRead: flags |= O_RDONLY; break;
    case OpenOptions::Access::kWrite: flags |= O_WRONLY; break;
    case OpenOptions::Access::kReadWrite: flags |= O_RDWR; break;
  }
  if (o.create) flags |= O_CREAT;
  if (o.exclusive) flags |= O_EXCL;
  if (o.truncate) flags |= O_TRUNC;
  if (o.append) flags |= O_APPEND;
  if (o.direct) flags |= O_DIRECT;
  return flags;
}

// openat through the ring; returns the descriptor or a negative errno.
int open_fd(Reactor& reactor, const std::string& path, int flags, mode_t mode) {
  int res;
  do {
    res = reactor.await([&](io_uring_sqe* sqe) {
      io_uring_prep_openat(sqe, AT_FDCWD, path.c_str(), flags, mode);
    });
  } while (should_retry(res));
  return res;
}

int close_fd(Reactor& reactor, int fd) {
  // Never retried: after close returns, even with EINTR, the descriptor is gone.
  return reactor.await([&](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
}

int statx_path(Reactor& reactor, int dirfd, const char* path, int flags, struct statx* out,
               unsigned mask = STATX_TYPE | STATX_SIZE) {
  int res;
  do {
    res = reactor.await([&](io_uring_sqe* sqe) {
      io_uring_prep_statx(sqe, dirfd, path, flags, mask, out);
    });
  } while (should_retry(res));
  return res;
}

// The O_DIRECT read granularity of `fd` (File::read_alignment): the kernel's direct-IO
// offset alignment when it reports one that divides a page, else a page. A failed statx
// costs nothing but the saving.
std::uint32_t direct_read_alignment(Reactor& reactor, int fd) {
  struct statx stx {};
  if (statx_path(reactor, fd, "", AT_EMPTY_PATH, &stx, STATX_DIOALIGN) < 0) return kPageSize;
  const std::uint32_t align = stx.stx_dio_offset_align;
  if ((stx.stx_mask & STATX_DIOALIGN) == 0 || align == 0 || (align & (align - 1)) != 0 ||
      kPageSize % align != 0 || stx.stx_dio_mem_align > kPageSize) {
    return kPageSize;
  }
  return align;
}

}  // namespace

// ---- lifetime -----------------------------------------------------------------------------

File::~File() {
  if (buffered_fd_ >= 0 && buffered_fd_ != fd_) ::close(buffered_fd_);
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept
    : reactor_(other.reactor_), fd_(std::exchange(other.fd_, -1)),
      buffered_fd_(std::exchange(other.buffered_fd_, -1)),
      buffered_from_(other.buffered_from_), buffered_to_(other.buffered_to_),
      path_(std::move(other.path_)), direct_(other.direct_),
      read_alignment_(other.read_alignment_) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (buffered_fd_ >= 0 && buffered_fd_ != fd_) ::close(buffered_fd_);
    if (fd_ >= 0) ::close(fd_);
    reactor_ = other.reactor_;
    fd_ = std::exchange(other.fd_, -1);
    buffered_fd_ = std::exchange(other.buffered_fd_, -1);
    buffered_from_ = other.buffered_from_;
    buffered_to_ = other.buffered_to_;
    path_ = std::move(other.path_);
    direct_ = other.direct_;
    read_alignment_ = other.read_alignment_;
  }
  return *this;
}

Result<File> File::open(const std::string& path, const OpenOptions& options) {
  Reactor& reactor = this_reactor();
  int fd = open_fd(reactor, path, open_flags(options), options.mode);
  if (fd < 0) return path_error(fd, "open", path);
  const std::uint32_t alignment = options.direct ? direct_read_alignment(reactor, fd) : kPageSize;
  return File(&reactor, fd, path, options.direct, alignment);
}

Status File::close() {
  if (buffered_fd_ >= 0 && buffered_fd_ != fd_) ::close(buffered_fd_);
  buffered_fd_ = -1;
  if (fd_ < 0) return Status::ok();
  int res = close_fd(*reactor_, std::exchange(fd_, -1));
  return res < 0 ? error(res, "close") : Status::ok();
}

// ---- data ---------------------------------------------------------------------------------

Status File::error(int res, const char* syscall) const { return path_error(res, syscall, path_); }

Status File::error_at(int res, const char* syscall, std::uint64_t offset) const {
  return Status::from_errno(res, std::string(syscall) + " " + path_ + " at offset " +
                                     std::to_string(offset));
}

Result<std::size_t> File::read_at(std::uint64_t offset, std::span<std::byte> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    std::byte* dst = buffer.data() + done;
    auto len = static_cast<unsigned>(std::min(buffer.size() - done, kMaxTransfer));
    int res = reactor_->await([&](io_uring_sqe* sqe) {
      io_uring_prep_read(sqe, fd_, dst, len, offset + done);
    }, IoClass::kDisk);
    if (should_retry(res)) continue;
    if (res < 0) return error_at(res, "read", offset + done);
    if (res == 0) break;  // end of file
    done += static_cast<std::size_t>(res);
    if (direct_ && !is_aligned(static_cast<std::uint64_t>(res), read_alignment_)) break;  // EOF
  }
  return done;
}

Status File::write_at(std::uint64_t offset, std::span<const std::byte> data) {
  return write_with_flags(offset, data, 0);
}

// Someone waits on a synced write to acknowledge: it goes to the kernel ahead of the round's
// queued replies (Reactor::await_first).
Status File::write_dsync_at(std::uint64_t offset, std::span<const std::byte> data) {
  return write_with_flags(offset, data, RWF_DSYNC);
}

Status File::write_with_flags(std::uint64_t offset, std::span<const std::byte> data, int rw_flags) {
  std::size_t done = 0;
  while (done < data.size()) {
    const std::byte* src = data.data() + done;
    auto len = static_cast<unsigned>(std::min(data.size() - done, kMaxTransfer));
    auto prep = [&](io_uring_sqe* sqe) {
      io_uring_prep_write(sqe, fd_, src, len, offset + done);
      sqe->rw_flags = rw_flags;
    };
    int res = (rw_flags & RWF_DSYNC) != 0 ? reactor_->await_first(prep, IoClass::kDisk)
                                          : reactor_->await(prep, IoClass::kDisk);
    if (should_retry(res)) continue;
    if (res < 0) return error_at(res, "write", offset + done);
    if (res == 0) return Status::io_error("write " + path_ + ": wrote nothing");
    done += static_cast<std::size_t>(res);
  }
  return Status::ok();
}

Result<std::size_t> File::readv_at(std::uint64_t offset, std::span<const iovec> iov) {
  IovecCursor cursor(iov);
  std::size_t done = 0;
  while (!cursor.done()) {
    std::span<const iovec> w = cursor.window();
    int res = reactor_->await([&](io_uring_sqe* sqe) {
      io_uring_prep_readv(sqe, fd_, w.data(), static_cast<unsigned>(w.size()), offset + done);
    }, IoClass::kDisk);
    if (should_retry(res)) continue;
    if (res < 0) return error_at(res, "readv", offset + done);
    if (res == 0) break;
    done += static_cast<std::size_t>(res);
    cursor.advance(static_cast<std::size_t>(res));
    if (direct_ && !is_aligned(static_cast<std::uint64_t>(res))) break;
  }
  return done;
}

Status File::writev_at(std::uint64_t offset, std::span<const iovec> iov) {
  IovecCursor cursor(iov);
  std::size_t done = 0;
  while (!cursor.done()) {
    std::span<const iovec> w = cursor.window();
    int res = reactor_->await([&](io_uring_sqe* sqe) {
      io_uring_prep_writev(sqe, fd_, w.data(), static_cast<unsigned>(w.size()), offset + done);
    }, IoClass::kDisk);
    if (should_retry(res)) continue;
    if (res < 0) return error_at(res, "writev", offset + done);
    if (res == 0) return Status::io_error("writev " + path_ + ": wrote nothing");
    done += static_cast<std::size_t>(res);
    cursor.advance(static_cast<std::size_t>(res));
  }
  return Status::ok();
}

Status File::sync(unsigned fsync_flags, const char* syscall) {
  int res;
  do {
    res = reactor_->await([&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd_, fsync_flags); },
                          IoClass::kDisk);
  } while (should_retry(res));
  return res < 0 ? error(res, syscall) : Status::ok();
}

Status File::write_buffered_at(std::uint64_t offset, std::span<const std::byte> data) {
  if (buffered_fd_ < 0) {
    if (!direct_) {
      buffered_fd_ = fd_;
    } else {
      // Rare (once per file): a plain open(2) is fine here. Through /proc/self/fd, so it is
      // the inode fd_ names even if the path was renamed since (and fd_'s sync covers it).
      const std::string self = "/proc/self/fd/" + std::to_string(fd_);
      int fd = ::open(self.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) return path_error(-errno, "open (buffered)", path_);
      buffered_fd_ = fd;
    }
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t res = ::pwrite(buffered_fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(offset + done));
    if (res < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (res < 0) return error_at(-errno, "pwrite", offset + done);
    if (res == 0) return Status::io_error("pwrite " + path_ + ": wrote nothing");
    done += static_cast<std::size_t>(res);
  }
  if (buffered_from_ == buffered_to_) {
    buffered_from_ = offset;
    buffered_to_ = offset + data.size();
  } else {
    buffered_from_ = std::min(buffered_from_, offset);
    buffered_to_ = std::max(buffered_to_, offset + data.size());
  }
  return Status::ok();
}

// After a sync the pages write_buffered_at left in the cache are clean and on the disk;
// nothing reads them but recovery, so they go rather than crowd out other pages. Only the
// range written before the sync began (`from`, `to`): pages written while it ran may be
// dirty still (the kernel would not drop those anyway). Advice only: a failure changes
// nothing.
void File::drop_buffered_pages(std::uint64_t from, std::uint64_t to) {
  if (from == to) return;
  ::posix_fadvise(buffered_fd_, static_cast<off_t>(from), static_cast<off_t>(to - from),
                  POSIX_FADV_DONTNEED);
  if (buffered_from_ == from && buffered_to_ == to) buffered_from_ = buffered_to_ = 0;
}

Status File::fsync() {
  const std::uint64_t from = buffered_from_, to = buffered_to_;
  Status s = sync(0, "fsync");
  if (s) drop_buffered_pages(from, to);
  return s;
}

Status File::fdatasync() {
  const std::uint64_t from = buffered_from_, to = buffered_to_;
  Status s = sync(IORING_FSYNC_DATASYNC, "fdatasync");
  if (s) drop_buffered_pages(from, to);
  return s;
}

Status File::allocate(std::uint64_t offset, std::uint64_t length, int mode) {
  int res;
  do {
    res = reactor_->await([&](io_uring_sqe* sqe) {
      io_uring_prep_fallocate(sqe, fd_, mode, static_cast<off_t>(offset), static_cast<off_t>(length));
    }, IoClass::kDisk);
  } while (should_retry(res));
  return res < 0 ? error_at(res, "fallocate", offset) : Status::ok();
}

Result<std::uint64_t> File::size() {
  struct statx stx {};
  int res = statx_path(*reactor_, fd_, "", AT_EMPTY_PATH, &stx);
  if (res < 0) return error(res, "statx");
  return static_cast<std::uint64_t>(stx.stx_size);
}

// ---- directories --------------------------------------------------------------------------

Status rename_file(const std::string& from, const std::string& to) {
  int res;
  do {
    res = this_reactor().await([&](io_uring_sqe* sqe) {
      io_uring_prep_renameat(sqe, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0);
    });
  } while (should_retry(res));
  return res < 0 ? path_error(res, "rename", from + " -> " + to) : Status::ok();
}

namespace {
Status unlink_at(const std::string& path, int flags, const char* syscall) {
  int res;
  do {
    res = this_reactor().await([&](io_uring_sqe* sqe) {
      io_uring_prep_unlinkat(sqe, AT_FDCWD, path.c_str(), flags);
    });
  } while (should_retry(res));
  return res < 0 ? path_error(res, syscall, path) : Status::ok();
}
}  // namespace

Status unlink_file(const std::string& path) { return unlink_at(path, 0, "unlink"); }
Status remove_dir(const std::string& path) { return unlink_at(path, AT_REMOVEDIR, "rmdir"); }

Status make_dir(const std::string& path, mode_t mode, bool exist_ok) {
  Reactor& reactor = this_reactor();
  int res;
  do {
    res = reactor.await([&](io_uring_sqe* sqe) {
      io_uring_prep_mkdirat(sqe, AT_FDCWD, path.c_str(), mode);
    });
  } while (should_retry(res));
  if (res == -EEXIST && exist_ok) {
    struct statx stx {};
    res = statx_path(reactor, AT_FDCWD, path.c_str(), 0, &stx);
    if (res == 0 && !S_ISDIR(stx.stx_mode)) res = -ENOTDIR;
  }
  return res < 0 ? path_error(res, "mkdir", path) : Status::ok();
}

Status sync_dir(const std::string& path) {
  Reactor& reactor = this_reactor();
  int fd = open_fd(reactor, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return path_error(fd, "open", path);
  int res;
  do {
    res = reactor.await([&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd, 0); },
                        IoClass::kDisk);
  } while (should_retry(res));
  int closed = close_fd(reactor, fd);
  if (res < 0) return path_error(res, "fsync", path);
  return closed < 0 ? path_error(closed, "close", path) : Status::ok();
}

}  // namespace cascade::runtime
