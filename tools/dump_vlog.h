// cascade-dump vlog FILE: a value-log file's header, every record (offset, size, key,
// compression, value size and its first bytes with --entries) and its footer, checking
// every checksum on the way (engine/FORMAT.md, "Value log").
#pragma once

#include <cstdint>
#include <string>

namespace cascade::tools {

// Prints the value-log file at `path` (file number `file_number`, which seeds its
// checksums). Returns the process exit code: 0 clean, 1 unreadable, 2 damaged (the error
// is printed, after every record before it).
int dump_vlog(const std::string& path, std::uint64_t file_number, bool entries);

}  // namespace cascade::tools
