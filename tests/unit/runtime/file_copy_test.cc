// copy_file and link_refused (src/runtime/file_copy.h) on the real file system.
#include "src/runtime/file_copy.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade::runtime;
using cascade::Status;
using cascade::runtime::testing::IoLoop;
using cascade::runtime::testing::TempDir;

namespace {

template <typename F>
void run_io_test(F fn) {
  IoLoop loop;
  loop.sched.spawn(fn);
  REQUIRE(loop.run());
}

std::string read_all(FileSystem& fs, const std::string& path) {
  auto f = fs.open(path, OpenOptions::read_only());
  REQUIRE(f);
  std::string out(*(*f)->size(), '\0');
  auto n = (*f)->read_at(0, std::as_writable_bytes(std::span(out.data(), out.size())));
  REQUIRE(n);
  CHECK(*n == out.size());
  REQUIRE((*f)->close());
  return out;
}

}  // namespace

TEST_CASE("copy_file copies every byte over several chunks and refuses an existing target") {
  TempDir dir;
  run_io_test([&] {
    FileSystem& fs = real_file_system();
    std::string data((5u << 20) / 2 + 123, '\0');  // 2.5 MiB and a bit: three chunks
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + (i >> 12));
    REQUIRE(replace_file_atomically(fs, dir.path(), "source", data));

    auto copied = copy_file(fs, dir.file("source"), dir.file("copy"));
    REQUIRE(copied);
    CHECK(*copied == data.size());
    CHECK(read_all(fs, dir.file("copy")) == data);

    REQUIRE(replace_file_atomically(fs, dir.path(), "other", "keep me"));
    CHECK_FALSE(copy_file(fs, dir.file("source"), dir.file("other")));
    CHECK(read_all(fs, dir.file("other")) == "keep me");
    CHECK(copy_file(fs, dir.file("missing"), dir.file("x")).error().is_not_found());
    CHECK_FALSE(*fs.exists(dir.file("x")));
  });
}

TEST_CASE("link_refused accepts the errors a copy can stand in for, and only those") {
  CHECK(link_refused(Status::from_errno(EXDEV, "link")));
  CHECK(link_refused(Status::from_errno(EPERM, "link")));
  CHECK(link_refused(Status::from_errno(EMLINK, "link")));
  CHECK(link_refused(Status::from_errno(EOPNOTSUPP, "link")));
  CHECK_FALSE(link_refused(Status::from_errno(ENOENT, "link")));
  CHECK_FALSE(link_refused(Status::from_errno(ENOSPC, "link")));
  CHECK_FALSE(link_refused(Status::from_errno(EEXIST, "link")));
  CHECK_FALSE(link_refused(Status::io_error("no errno")));
}
