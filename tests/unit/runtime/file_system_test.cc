#include "src/runtime/file_system.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "src/runtime/aligned_buffer.h"
#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade::runtime;
using cascade::runtime::testing::IoLoop;
using cascade::runtime::testing::TempDir;

namespace {
template <typename F>
void run_io_test(F fn) {
  IoLoop loop;
  loop.sched.spawn(fn);
  REQUIRE(loop.run());
}
}  // namespace

TEST_CASE("the real file system writes, syncs, lists, links, renames and removes") {
  TempDir dir;
  run_io_test([&] {
    FileSystem& fs = real_file_system();
    std::string sub = dir.path() + "/sub";
    REQUIRE(fs.make_dir(sub));
    REQUIRE(fs.make_dir(sub));  // existing is fine

    OpenOptions o = OpenOptions::read_write_create();
    o.direct = true;
    auto f = fs.open(sub + "/a", o);
    REQUIRE(f);
    AlignedBuffer buf(kPageSize);
    std::memset(buf.data(), 'x', kPageSize);
    REQUIRE((*f)->write_at(0, buf.span()));
    REQUIRE((*f)->sync());
    CHECK(*(*f)->size() == kPageSize);

    // O_DIRECT misuse is refused before it reaches the kernel.
    std::byte small[10]{};
    cascade::Status s = (*f)->write_at(0, std::span<const std::byte>(small, 10));
    CHECK(s.code() == cascade::StatusCode::kInvalidArgument);

    AlignedBuffer back(kPageSize);
    auto n = (*f)->read_at(0, back.span());
    REQUIRE(n);
    CHECK(*n == kPageSize);
    CHECK(std::memcmp(back.data(), buf.data(), kPageSize) == 0);
    REQUIRE((*f)->close());

    REQUIRE(fs.link(sub + "/a", sub + "/b"));
    REQUIRE(fs.rename(sub + "/b", sub + "/c"));
    REQUIRE(fs.sync_dir(sub));
    auto names = fs.list_dir(sub);
    REQUIRE(names);
    std::sort(names->begin(), names->end());
    CHECK(*names == std::vector<std::string>{"a", "c"});
    CHECK(*fs.exists(sub + "/c"));
    REQUIRE(fs.remove(sub + "/a"));
    REQUIRE(fs.remove(sub + "/c"));
    CHECK_FALSE(*fs.exists(sub + "/a"));
    CHECK(fs.remove(sub + "/a").is_not_found());
    REQUIRE(fs.remove_dir(sub));
    CHECK(fs.list_dir(sub).error().is_not_found());
  });
}

TEST_CASE("truncate cuts a file back") {
  TempDir dir;
  run_io_test([&] {
    FileSystem& fs = real_file_system();
    auto f = fs.open(dir.path() + "/t", OpenOptions::read_write_create());
    REQUIRE(f);
    std::string data(10000, 'y');
    REQUIRE((*f)->write_at(0, std::as_bytes(std::span(data))));
    REQUIRE((*f)->truncate(100));
    CHECK(*(*f)->size() == 100);
    REQUIRE((*f)->close());
  });
}
