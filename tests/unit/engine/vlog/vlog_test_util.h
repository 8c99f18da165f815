// Test support for the value-log tests: a value-log file written with VlogWriter on a
// FaultFileSystem, and a Version that names it.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/version/version.h"
#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "engine/vlog/vlog_writer.h"
#include "tests/support/fault_file_system.h"

namespace cascade::engine::vlog_test {

struct WrittenFile {
  std::uint64_t file_number = 0;
  std::uint64_t file_size = 0;
  std::vector<ValuePointer> pointers;  // one per value, in order
};

inline std::string key_of(std::size_t i) { return "key" + std::to_string(100000 + i); }

// Writes values[i] under key_of(i) to dir/NNNNNN.vlog. Must run on a fiber.
inline WrittenFile write_vlog(runtime::FileSystem& fs, const std::string& dir,
                              std::uint64_t file_number, const std::vector<std::string>& values,
                              const CompressionOptions& compression = {}) {
  REQUIRE(fs.make_dir(dir));
  runtime::OpenOptions o = runtime::OpenOptions::read_write_create();
  o.direct = true;
  auto file = fs.open(path_join(dir, vlog_file_name(file_number)), o);
  REQUIRE(file);
  WrittenFile out;
  out.file_number = file_number;
  {
    VlogWriter writer(**file, file_number, compression, 64 * 1024);
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto p = writer.add(key_of(i), values[i]);
      REQUIRE_MESSAGE(p, p.status().to_string());
      out.pointers.push_back(*p);
    }
    auto size = writer.finish();
    REQUIRE(size);
    out.file_size = *size;
  }
  REQUIRE((*file)->close());
  return out;
}

// A version holding just that file.
inline std::shared_ptr<const Version> version_with(const WrittenFile& f) {
  VersionEdit edit;
  edit.add_vlog(VlogFile{f.file_number, f.file_size, 0});
  auto v = apply_edit(Version(), edit);
  REQUIRE(v);
  return *v;
}

}  // namespace cascade::engine::vlog_test
