// Helpers for the table builder/reader tests: running IO in a fiber, a FileHandle that
// counts calls, and building or opening a table file in a TempDir with the real FS.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/table/table_builder.h"
#include "engine/table/table_reader.h"
#include "src/runtime/file_system.h"
#include "tests/unit/runtime/io_test_loop.h"

namespace cascade::engine::testing {

using runtime::testing::IoLoop;
using runtime::testing::TempDir;

// Runs fn in a fiber on an IoLoop (the real file system goes through its reactor).
template <typename F>
void run_io(F fn) {
  IoLoop loop;
  loop.sched.spawn(fn);
  REQUIRE(loop.run(std::chrono::seconds(300)));
}

// Forwards to a real file and counts the calls and their sizes.
class CountingFile final : public runtime::FileHandle {
 public:
  explicit CountingFile(std::unique_ptr<runtime::FileHandle> file) : file_(std::move(file)) {}

  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
    reads++;
    return file_->read_at(offset, buffer);
  }
  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    write_sizes.push_back(data.size());
    write_offsets.push_back(offset);
    return file_->write_at(offset, data);
  }
  Status sync() override {
    syncs++;
    return file_->sync();
  }
  Status allocate(std::uint64_t o, std::uint64_t l) override { return file_->allocate(o, l); }
  Status truncate(std::uint64_t size) override { return file_->truncate(size); }
  Result<std::uint64_t> size() override { return file_->size(); }
  Status close() override { return file_->close(); }
  const std::string& path() const override { return file_->path(); }

  std::uint64_t reads = 0;
  std::uint64_t syncs = 0;
  std::vector<std::size_t> write_sizes;
  std::vector<std::uint64_t> write_offsets;

 private:
  std::unique_ptr<runtime::FileHandle> file_;
};

inline std::unique_ptr<CountingFile> open_direct(const std::string& path, bool create) {
  runtime::OpenOptions o = create ? runtime::OpenOptions::read_write_create()
                                  : runtime::OpenOptions::read_only();
  o.truncate = create;
  o.direct = true;
  auto f = runtime::real_file_system().open(path, o);
  REQUIRE_MESSAGE(f, f.status().to_string());
  return std::make_unique<CountingFile>(std::move(*f));
}

using Entries = std::vector<std::pair<std::string, std::string>>;

// Builds a table of `entries` (sorted) at `path`; returns its properties.
inline TableProperties build_table(const std::string& path, const Entries& entries,
                                   const TableBuilderOptions& options) {
  auto file = open_direct(path, true);
  TableBuilder builder(*file, options);
  for (const auto& [k, v] : entries) {
    Status s = builder.add(k, v);
    REQUIRE_MESSAGE(s, s.to_string());
  }
  auto props = builder.finish();
  REQUIRE_MESSAGE(props, props.status().to_string());
  REQUIRE(file->close());
  return *props;
}

// An open table: the file and a reader over it.
struct OpenTable {
  std::unique_ptr<CountingFile> file;
  std::unique_ptr<TableReader> reader;
};

inline Result<OpenTable> open_table(const std::string& path, std::uint64_t file_number,
                                    const TableReaderOptions& options = {}) {
  OpenTable t;
  t.file = open_direct(path, false);
  auto size = t.file->size();
  REQUIRE(size);
  auto reader = TableReader::open(*t.file, file_number, *size, options);
  if (!reader) return reader.error();
  t.reader = std::move(*reader);
  return t;
}

// Flips one bit of the file at `offset` (through a buffered, non-direct handle).
inline void flip_bit(const std::string& path, std::uint64_t offset, int bit = 0) {
  runtime::OpenOptions o;
  o.access = runtime::OpenOptions::Access::kReadWrite;
  auto f = runtime::real_file_system().open(path, o);
  REQUIRE(f);
  std::byte b;
  REQUIRE(*(*f)->read_at(offset, {&b, 1}) == 1);
  b ^= static_cast<std::byte>(1 << bit);
  REQUIRE((*f)->write_at(offset, {&b, 1}));
  REQUIRE((*f)->close());
}

}  // namespace cascade::engine::testing
