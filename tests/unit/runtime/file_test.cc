#include "src/runtime/file.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/file_system.h"
#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade::runtime;
using cascade::Status;
using cascade::runtime::testing::IoLoop;
using cascade::runtime::testing::TempDir;

namespace {

void fill_pattern(std::span<std::byte> bytes, unsigned seed) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::byte>((i * 131 + seed * 7 + (i >> 12)) & 0xff);
  }
}

OpenOptions direct_rw_create() {
  OpenOptions o = OpenOptions::read_write_create();
  o.direct = true;
  return o;
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Which of the first `pages` pages of `path` are in the page cache (mincore over a mapping,
// which itself faults nothing in).
std::vector<bool> cached_pages(const std::string& path, std::size_t pages) {
  std::vector<bool> cached(pages, false);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  void* map = ::mmap(nullptr, pages * kPageSize, PROT_READ, MAP_SHARED, fd, 0);
  REQUIRE(map != MAP_FAILED);
  std::vector<unsigned char> vec(pages);
  REQUIRE(::mincore(map, pages * kPageSize, vec.data()) == 0);
  for (std::size_t i = 0; i < pages; ++i) cached[i] = (vec[i] & 1) != 0;
  ::munmap(map, pages * kPageSize);
  ::close(fd);
  return cached;
}

}  // namespace

TEST_CASE("an O_DIRECT write, fdatasync and read back return the same bytes") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("direct"), direct_rw_create());
    REQUIRE_MESSAGE(file.has_value(), file.status().to_string());
    CHECK(file->direct());
    AlignedBuffer out(64 * 1024);
    fill_pattern(out.span(), 1);
    REQUIRE(file->write_at(0, out.span()).is_ok());
    REQUIRE(file->write_at(out.size(), out.first(4096)).is_ok());
    REQUIRE(file->fdatasync().is_ok());
    auto size = file->size();
    REQUIRE(size.has_value());
    CHECK(*size == out.size() + 4096);

    AlignedBuffer in(out.size());
    auto n = file->read_at(0, in.span());
    REQUIRE(n.has_value());
    CHECK(*n == out.size());
    CHECK(std::memcmp(in.data(), out.data(), out.size()) == 0);
    REQUIRE(file->close().is_ok());
    CHECK_FALSE(file->is_open());
  });
  REQUIRE(loop.run());
}

// write_buffered_at goes through the page cache even on an O_DIRECT file (a second,
// buffered descriptor), direct reads see it before any sync, and the sync that puts the
// pages on the disk drops them from the cache again. The buffered descriptor is the same
// inode even after a rename.
TEST_CASE("a buffered write to a direct file lands in the page cache until fdatasync") {
  IoLoop loop;
  TempDir dir;
  const std::string path = dir.file("moved");
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("mixed"), direct_rw_create());
    REQUIRE_MESSAGE(file.has_value(), file.status().to_string());
    REQUIRE(rename_file(dir.file("mixed"), path));
    AlignedBuffer out(3 * kPageSize);
    fill_pattern(out.span(), 5);
    REQUIRE(file->allocate(0, out.size()));
    REQUIRE(file->write_at(0, out.first(kPageSize)));
    REQUIRE(file->write_buffered_at(kPageSize, out.span().subspan(kPageSize)));
    CHECK(cached_pages(path, 3) == std::vector<bool>{false, true, true});

    AlignedBuffer in(out.size());
    auto n = file->read_at(0, in.span());  // O_DIRECT: the kernel writes the dirty pages first
    REQUIRE(n.has_value());
    CHECK(*n == out.size());
    CHECK(std::memcmp(in.data(), out.data(), out.size()) == 0);

    // Rewriting a cached page: the last bytes win.
    fill_pattern(out.span().subspan(2 * kPageSize), 9);
    REQUIRE(file->write_buffered_at(2 * kPageSize, out.span().subspan(2 * kPageSize)));
    REQUIRE(file->fdatasync());
    CHECK(cached_pages(path, 3) == std::vector<bool>{false, false, false});
    n = file->read_at(0, in.span());
    REQUIRE(n.has_value());
    CHECK(std::memcmp(in.data(), out.data(), out.size()) == 0);
    REQUIRE(file->close());
  });
  REQUIRE(loop.run());
}

TEST_CASE("a direct file reports its read granularity and reads at it") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("sectors"), direct_rw_create());
    REQUIRE_MESSAGE(file.has_value(), file.status().to_string());
    const std::uint32_t granularity = file->read_alignment();
    MESSAGE("O_DIRECT read granularity here: " << granularity);
    REQUIRE(granularity >= 1);
    CHECK((granularity & (granularity - 1)) == 0);
    CHECK(kPageSize % granularity == 0);
    AlignedBuffer out(16 * 1024);
    fill_pattern(out.span(), 3);
    REQUIRE(file->write_at(0, out.span()).is_ok());
    // One granule from inside the second page, into page-aligned memory.
    AlignedBuffer in(kPageSize);
    const std::uint64_t offset = kPageSize + granularity;
    auto n = file->read_at(offset, in.first(granularity));
    REQUIRE_MESSAGE(n.has_value(), n.status().to_string());
    CHECK(*n == granularity);
    CHECK(std::memcmp(in.data(), out.data() + offset, granularity) == 0);
    // The same read through the FileSystem interface passes its alignment check.
    REQUIRE(file->close().is_ok());
    auto handle = real_file_system().open(dir.file("sectors"), direct_rw_create());
    REQUIRE(handle.has_value());
    CHECK((*handle)->read_alignment() == granularity);
    auto m = (*handle)->read_at(offset, in.first(granularity));
    REQUIRE_MESSAGE(m.has_value(), m.status().to_string());
    CHECK(*m == granularity);
    if (granularity < kPageSize) {
      // Coarser than a granule but finer than a page is still refused below the granule.
      CHECK_FALSE((*handle)->read_at(offset + granularity / 2, in.first(granularity)));
    }
    REQUIRE((*handle)->close().is_ok());
    // A buffered file reads at any offset and says a page (its granularity is unused).
    OpenOptions buffered = OpenOptions::read_write_create();
    auto plain = File::open(dir.file("plain"), buffered);
    REQUIRE(plain.has_value());
    CHECK(plain->read_alignment() == kPageSize);
    REQUIRE(plain->close().is_ok());
  });
  REQUIRE(loop.run());
}

TEST_CASE("a read that crosses end of file returns the bytes up to it, and 0 past it") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("short"), OpenOptions::read_write_create());
    REQUIRE(file.has_value());
    REQUIRE(file->write_at(0, as_bytes("hello, world")).is_ok());
    std::vector<std::byte> buf(100);
    auto n = file->read_at(7, buf);
    REQUIRE(n.has_value());
    CHECK(*n == 5);
    CHECK(std::memcmp(buf.data(), "world", 5) == 0);
    auto past = file->read_at(500, buf);
    REQUIRE(past.has_value());
    CHECK(*past == 0);
  });
  REQUIRE(loop.run());
}

TEST_CASE("an O_DIRECT read crossing an unaligned end of file stops at it") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    std::string path = dir.file("tail");
    {
      auto plain = File::open(path, OpenOptions::read_write_create());
      REQUIRE(plain.has_value());
      std::vector<std::byte> data(6000, std::byte{9});
      REQUIRE(plain->write_at(0, data).is_ok());
    }
    OpenOptions o;
    o.direct = true;
    auto file = File::open(path, o);
    REQUIRE(file.has_value());
    AlignedBuffer buf(16384);
    auto n = file->read_at(0, buf.span());
    REQUIRE_MESSAGE(n.has_value(), n.status().to_string());
    CHECK(*n == 6000);
    CHECK(buf.data()[5999] == std::byte{9});
  });
  REQUIRE(loop.run());
}

TEST_CASE("opening a missing file fails with NotFound naming the path and the syscall") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("absent"), OpenOptions::read_only());
    REQUIRE_FALSE(file.has_value());
    CHECK(file.error().is_not_found());
    CHECK(file.error().message().find("open " + dir.file("absent")) != std::string::npos);
    CHECK(file.error().sys_errno() == ENOENT);
  });
  REQUIRE(loop.run());
}

TEST_CASE("exclusive create refuses an existing file") {
  IoLoop loop;
  TempDir dir;
  OpenOptions o = OpenOptions::read_write_create();
  o.exclusive = true;
  auto first = File::open(dir.file("x"), o);  // outside a fiber: the call blocks the thread
  REQUIRE(first.has_value());
  auto second = File::open(dir.file("x"), o);
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().sys_errno() == EEXIST);
}

TEST_CASE("writev and readv move every byte across several buffers") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("vec"), OpenOptions::read_write_create());
    REQUIRE(file.has_value());
    std::string a = "alpha-", b, c = "-gamma";
    b.assign(100000, 'b');
    iovec out[] = {{a.data(), a.size()}, {nullptr, 0}, {b.data(), b.size()}, {c.data(), c.size()}};
    REQUIRE(file->writev_at(10, out).is_ok());
    std::string x(6, '\0'), y(100000, '\0'), z(20, '\0');
    iovec in[] = {{x.data(), x.size()}, {y.data(), y.size()}, {z.data(), z.size()}};
    auto n = file->readv_at(10, in);
    REQUIRE(n.has_value());
    CHECK(*n == a.size() + b.size() + c.size());
    CHECK(x == a);
    CHECK(y == b);
    CHECK(z.substr(0, 6) == c);
  });
  REQUIRE(loop.run());
}

TEST_CASE("allocate reserves space and extends the file size") {
  IoLoop loop;
  TempDir dir;
  loop.sched.spawn([&] {
    auto file = File::open(dir.file("prealloc"), OpenOptions::read_write_create());
    REQUIRE(file.has_value());
    REQUIRE(file->allocate(0, 1 << 20).is_ok());
    auto size = file->size();
    REQUIRE(size.has_value());
    CHECK(*size == (1u << 20));
    REQUIRE(file->fsync().is_ok());
  });
  REQUIRE(loop.run());
}

TEST_CASE("make_dir, rename_file, unlink_file, remove_dir and sync_dir change the directory") {
  IoLoop loop;
  TempDir dir;
  namespace fs = std::filesystem;
  loop.sched.spawn([&] {
    std::string sub = dir.file("sub");
    REQUIRE(make_dir(sub).is_ok());
    CHECK(fs::is_directory(sub));
    CHECK(make_dir(sub).is_ok());  // exist_ok by default
    CHECK(make_dir(sub, 0755, false).sys_errno() == EEXIST);
    {
      auto f = File::open(sub + "/a", OpenOptions::read_write_create());
      REQUIRE(f.has_value());
    }
    CHECK(make_dir(sub + "/a").sys_errno() == ENOTDIR);  // a file is in the way
    REQUIRE(rename_file(sub + "/a", sub + "/b").is_ok());
    CHECK_FALSE(fs::exists(sub + "/a"));
    CHECK(fs::exists(sub + "/b"));
    REQUIRE(sync_dir(sub).is_ok());
    REQUIRE(unlink_file(sub + "/b").is_ok());
    CHECK_FALSE(fs::exists(sub + "/b"));
    Status again = unlink_file(sub + "/b");
    CHECK(again.is_not_found());
    CHECK(again.message().find("unlink") != std::string::npos);
    REQUIRE(remove_dir(sub).is_ok());
    CHECK_FALSE(fs::exists(sub));
    CHECK(sync_dir(sub).is_not_found());
  });
  REQUIRE(loop.run());
}

TEST_CASE("concurrent O_DIRECT reads from many fibers all return their own pages") {
  IoLoop loop;
  TempDir dir;
  constexpr int kPages = 256;
  auto file = File::open(dir.file("pages"), direct_rw_create());
  REQUIRE(file.has_value());
  AlignedBuffer all(kPages * kPageSize);
  for (int p = 0; p < kPages; ++p) fill_pattern(all.span().subspan(p * kPageSize, kPageSize), p);
  REQUIRE(file->write_at(0, all.span()).is_ok());
  int good = 0;
  for (int f = 0; f < 32; ++f) {
    loop.sched.spawn([&, f] {
      AlignedBuffer page(kPageSize);
      for (int p = f; p < kPages; p += 32) {
        auto n = file->read_at(static_cast<std::uint64_t>(p) * kPageSize, page.span());
        REQUIRE(n.has_value());
        good += *n == kPageSize &&
                std::memcmp(page.data(), all.data() + p * kPageSize, kPageSize) == 0;
      }
    });
  }
  REQUIRE(loop.run());
  CHECK(good == kPages);
}
