#include "src/server/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace cascade::server {

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Status DataDirLock::acquire(const std::string& dir) {
  // Start-up, before any shard runs: plain syscalls are fine here.
  std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "open '" + path + "'");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status(StatusCode::kBusy, "the data directory '" + dir +
                                           "' is in use by another cascade-server");
    }
    return Status::from_errno(err, "flock '" + path + "'");
  }
  fd_ = fd;
  return Status::ok();
}

}  // namespace cascade::server
