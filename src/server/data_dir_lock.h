// The data directory's lock: one server per `dir`.
//
// `dir/LOCK` is opened (created if missing, never written) and locked with flock(LOCK_EX |
// LOCK_NB) for the life of the process. A second server pointed at the same directory
// fails start-up instead of opening the same engines and WAL files twice, which would
// corrupt them. The kernel drops the lock when the process dies, SIGKILL included, so a
// crash never leaves a stale lock behind.
#pragma once

#include <string>

#include "src/runtime/result.h"

namespace cascade::server {

class DataDirLock {
 public:
  DataDirLock() = default;
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Takes the lock of `dir` (which must exist); fails if another process holds it.
  Status acquire(const std::string& dir);

 private:
  int fd_ = -1;
};

}  // namespace cascade::server
