// cascade-dump manifest FILE: every record of a manifest as a readable edit, then the
// version they add up to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cascade::tools {

// Prints the manifest at `path`; the file number (which seeds its checksums) comes from the
// name "MANIFEST-NNNNNN" unless given. Returns the process exit code: 0 clean, 1 unreadable,
// 2 damaged (the error is printed).
int dump_manifest(const std::string& path, std::optional<std::uint64_t> file_number);

}  // namespace cascade::tools
