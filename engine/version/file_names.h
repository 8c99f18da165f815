// Names of the files in an engine directory, and parsing them back into numbers.
//
//   CURRENT           the name of the live manifest + "\n" (engine/version/current_file.h)
//   CURRENT.tmp       CURRENT being replaced; a leftover one is garbage
//   MANIFEST-NNNNNN   a manifest; NNNNNN is its file number, at least 6 decimal digits
//   NNNNNN.ext        every other engine file (table, value log, WAL segment): the number
//                     the VersionSet allocated for it, at least 6 decimal digits, a dot, any
//                     extension chosen by the file's owner
//
// All numbered files share one counter (VersionSet::new_file_number), so a number names one
// file whatever its kind. Names that match none of these patterns belong to someone else
// and the engine never deletes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::engine {

inline constexpr std::string_view kCurrentFileName = "CURRENT";
inline constexpr std::string_view kCurrentTempFileName = "CURRENT.tmp";
inline constexpr std::string_view kManifestPrefix = "MANIFEST-";

std::string manifest_file_name(std::uint64_t number);
// "NNNNNN.ext" for a numbered file of the given extension (no dot in `ext`).
std::string numbered_file_name(std::uint64_t number, std::string_view ext);

// The number of "MANIFEST-NNNNNN", or nothing if `name` is not a manifest's name.
std::optional<std::uint64_t> parse_manifest_number(std::string_view name);
// The number of "NNNNNN.ext", or nothing if `name` is not a numbered file's name.
std::optional<std::uint64_t> parse_numbered_file(std::string_view name);

inline std::string path_join(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (!p.empty() && p.back() != '/') p += '/';
  p.append(name);
  return p;
}

}  // namespace cascade::engine
