// Copying a file through a FileSystem, and telling when a hard link cannot be made.
//
// copy_file is the fallback of code that shares immutable files by hard link (engine
// checkpoints): link(2) fails with EXDEV across file systems, and with EPERM, EMLINK or
// EOPNOTSUPP where the file system refuses hard links; link_refused() recognizes exactly
// those errors, so any other failure (a missing source, ENOSPC, EIO) stays an error.
//
// Durability: copy_file syncs the new file's data before returning, but not its directory
// entry; the caller syncs the directory once all its entries are made (file_system.h).
// The copy goes through the FileSystem's handles, so a fault-injecting file system sees
// (and can crash) every write of it. Reads are buffered (no O_DIRECT): a copy is rare and
// sequential, so the kernel's read-ahead helps it.
//
// Calling rules: as FileSystem's (may suspend the calling fiber).
#pragma once

#include <cstdint>
#include <string>

#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::runtime {

// Copies `from` to `to`, which must not exist, and syncs the copy. Returns the bytes
// copied. On failure a partly written `to` is removed (best effort).
Result<std::uint64_t> copy_file(FileSystem& fs, const std::string& from, const std::string& to);

// True if `s` is a failed link() that a copy can stand in for (see above).
bool link_refused(const Status& s);

}  // namespace cascade::runtime
