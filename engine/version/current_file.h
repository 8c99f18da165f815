// CURRENT: the one small file that names the live manifest.
//
//   contents = "MANIFEST-" digits "\n"     exactly; anything else is Corruption
//
// Replacing it (install_current) is the commit point of a manifest switch:
//   1. write CURRENT.tmp with the new name, sync it
//   2. rename CURRENT.tmp over CURRENT
//   3. sync the directory
// A crash before 3 leaves CURRENT naming either the old or the new manifest, both complete:
// the new manifest is synced by its writer before install_current is called.
#pragma once

#include <cstdint>
#include <string>

#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

// The manifest number CURRENT names. NotFound if there is no CURRENT; Corruption if its
// contents are not exactly one manifest name and a newline.
Result<std::uint64_t> read_current(runtime::FileSystem& fs, const std::string& dir);

// Points CURRENT at MANIFEST-`manifest_number` durably (the steps above). `renamed` as
// runtime::replace_file_atomically's: whether a failure came after CURRENT was replaced.
Status install_current(runtime::FileSystem& fs, const std::string& dir,
                       std::uint64_t manifest_number, bool* renamed = nullptr);

}  // namespace cascade::engine
