#include "tests/support/fault_file_system.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/scheduler.h"
#include "tests/support/test_seed.h"

using namespace cascade;
using namespace cascade::test_support;
using runtime::OpenOptions;

namespace {

// One seed for the whole suite, printed once; CASCADE_SEED replays every crash.
std::uint64_t base_seed() {
  static const std::uint64_t seed = cascade::testing::test_seed("fault_file_system_test");
  return seed;
}

std::vector<std::byte> bytes(std::size_t n, char c) {
  return std::vector<std::byte>(n, static_cast<std::byte>(c));
}
std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}
std::string text(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::unique_ptr<runtime::FileHandle> create(FaultFileSystem& fs, const std::string& path) {
  auto f = fs.open(path, OpenOptions::read_write_create());
  REQUIRE(f.has_value());
  return std::move(*f);
}

void write(runtime::FileHandle& f, std::uint64_t offset, const std::vector<std::byte>& data) {
  REQUIRE(f.write_at(offset, data).is_ok());
}

// The current contents of `path`, or "<missing>".
std::string read(FaultFileSystem& fs, const std::string& path) {
  auto c = fs.contents(path);
  return c ? text(*c) : "<missing>";
}

// A directory /db holding `name`, both durable, with `data` synced in the file.
std::unique_ptr<runtime::FileHandle> durable_file(FaultFileSystem& fs, const std::string& name,
                                                  const std::vector<std::byte>& data) {
  REQUIRE(fs.make_dir("/db").is_ok());
  REQUIRE(fs.sync_dir("/").is_ok());
  auto f = create(fs, "/db/" + name);
  write(*f, 0, data);
  REQUIRE(f->sync().is_ok());
  REQUIRE(fs.sync_dir("/db").is_ok());
  return f;
}

}  // namespace

TEST_CASE("reads see unsynced writes, and a crash keeps only what was synced") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "wal", bytes("synced."));
  write(*f, 7, bytes("unsynced"));
  CHECK(read(fs, "/db/wal") == "synced.unsynced");
  CrashReport r = fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK(read(fs, "/db/wal") == "synced.");
  CHECK(r.writes_dropped == 1);
}

TEST_CASE("a process crash keeps every unsynced write and directory entry") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "wal", bytes("synced."));
  write(*f, 7, bytes("unsynced"));
  auto g = create(fs, "/db/new");
  write(*g, 0, bytes("fresh"));
  fs.simulate_crash(CrashOptions::keep_unsynced(1));
  CHECK(read(fs, "/db/wal") == "synced.unsynced");
  CHECK(read(fs, "/db/new") == "fresh");
}

TEST_CASE("a synced file vanishes at a crash unless its directory was synced") {
  FaultFileSystem fs;
  REQUIRE(fs.make_dir("/db").is_ok());
  REQUIRE(fs.sync_dir("/").is_ok());
  auto f = create(fs, "/db/a");
  write(*f, 0, bytes("data"));
  REQUIRE(f->sync().is_ok());
  fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK_FALSE(*fs.exists("/db/a"));
  CHECK(*fs.exists("/db"));

  auto g = create(fs, "/db/b");
  write(*g, 0, bytes("data"));
  REQUIRE(g->sync().is_ok());
  REQUIRE(fs.sync_dir("/db").is_ok());
  fs.simulate_crash(CrashOptions::lose_unsynced(2));
  CHECK(read(fs, "/db/b") == "data");
}

TEST_CASE("a directory that was never synced into its parent vanishes with its files") {
  FaultFileSystem fs;
  REQUIRE(fs.make_dir("/db").is_ok());
  auto f = create(fs, "/db/a");
  REQUIRE(f->sync().is_ok());
  REQUIRE(fs.sync_dir("/db").is_ok());
  fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK_FALSE(*fs.exists("/db"));
}

TEST_CASE("a rename not followed by sync_dir is undone by a crash") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "MANIFEST.tmp", bytes("v2"));
  REQUIRE(fs.rename("/db/MANIFEST.tmp", "/db/MANIFEST").is_ok());
  CHECK(read(fs, "/db/MANIFEST") == "v2");
  fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK(read(fs, "/db/MANIFEST.tmp") == "v2");
  CHECK_FALSE(*fs.exists("/db/MANIFEST"));

  REQUIRE(fs.rename("/db/MANIFEST.tmp", "/db/MANIFEST").is_ok());
  REQUIRE(fs.sync_dir("/db").is_ok());
  fs.simulate_crash(CrashOptions::lose_unsynced(2));
  CHECK(read(fs, "/db/MANIFEST") == "v2");
  CHECK_FALSE(*fs.exists("/db/MANIFEST.tmp"));
}

TEST_CASE("a rename within a directory lands whole or not at all, and may precede the data") {
  const std::uint64_t seed = base_seed();
  bool renamed_without_data = false;
  for (std::uint64_t i = 0; i < 64; ++i) {
    FaultFileSystem fs;
    auto f = durable_file(fs, "old", bytes("v1"));
    auto g = create(fs, "/db/tmp");
    REQUIRE(fs.sync_dir("/db").is_ok());
    write(*g, 0, bytes("v2"));  // never synced
    REQUIRE(fs.rename("/db/tmp", "/db/new").is_ok());
    CrashReport r = fs.crash(seed + i);
    INFO(r.log);
    const bool has_tmp = *fs.exists("/db/tmp");
    const bool has_new = *fs.exists("/db/new");
    CHECK(has_tmp != has_new);
    if (has_new && read(fs, "/db/new").empty()) renamed_without_data = true;
  }
  CHECK(renamed_without_data);
}

TEST_CASE("unsynced directory operations each survive a random crash or not") {
  const std::uint64_t seed = base_seed();
  bool seen[2][2] = {};
  for (std::uint64_t i = 0; i < 64; ++i) {
    FaultFileSystem fs;
    REQUIRE(fs.make_dir("d").is_ok());
    REQUIRE(fs.sync_dir(".").is_ok());
    create(fs, "d/a");
    create(fs, "d/b");
    fs.crash(seed + i);
    seen[*fs.exists("d/a")][*fs.exists("d/b")] = true;
  }
  CHECK(seen[0][0]);
  CHECK(seen[0][1]);
  CHECK(seen[1][0]);
  CHECK(seen[1][1]);
}

// One pending write of `length` bytes of 'B' at `offset` over a synced file of 'A's: after
// a crash where writes always land, the file must hold 'B' exactly on [offset, end) with end
// either offset + length or a sector boundary inside the write.
void check_tears(std::uint32_t sector, std::uint64_t offset, std::uint64_t length) {
  const std::uint64_t seed = base_seed();
  bool torn = false, whole = false;
  for (std::uint64_t i = 0; i < 200; ++i) {
    FaultFileSystem fs;
    auto f = durable_file(fs, "f", bytes(16384, 'A'));
    write(*f, offset, bytes(length, 'B'));
    CrashOptions o;
    o.seed = seed + i;
    o.write_lands = 1.0;
    o.write_torn = 0.5;
    o.sector_size = sector;
    CrashReport r = fs.simulate_crash(o);
    INFO(r.log);
    const std::string got = read(fs, "/db/f");
    REQUIRE(got.size() == 16384);
    std::uint64_t end = offset;
    while (end < got.size() && got[end] == 'B') ++end;
    CHECK(got.find('B') == offset);
    CHECK(got.find_first_not_of('A', end) == std::string::npos);  // nothing lands past it
    CHECK(end > offset);
    CHECK(end <= offset + length);
    if (end == offset + length) {
      whole = true;
    } else {
      CHECK(end % sector == 0);
      torn = true;
    }
    CHECK(r.writes_torn + r.writes_whole == 1);
  }
  CHECK(torn);
  CHECK(whole);
}

TEST_CASE("a torn write lands a prefix of whole 512-byte sectors within the write") {
  check_tears(512, 1000, 9000);
}

TEST_CASE("a torn write lands a prefix of whole 4 KiB sectors within the write") {
  check_tears(4096, 100, 12000);
}

TEST_CASE("a later write may land while an earlier one does not") {
  const std::uint64_t seed = base_seed();
  bool later_only = false;
  for (std::uint64_t i = 0; i < 64 && !later_only; ++i) {
    FaultFileSystem fs;
    auto f = durable_file(fs, "f", bytes(8, '.'));
    write(*f, 0, bytes("1111"));
    write(*f, 4, bytes("2222"));
    fs.crash(seed + i);
    later_only = read(fs, "/db/f") == "....2222";
  }
  CHECK(later_only);
}

namespace {
// The same history of calls, crashed with `seed`: every file's contents and the report.
std::string crash_history(std::uint64_t seed) {
  FaultFileSystem fs;
  auto f = durable_file(fs, "wal", bytes(3000, 'x'));
  for (int i = 0; i < 8; ++i) write(*f, 3000 + i * 1500, bytes(1500, static_cast<char>('a' + i)));
  REQUIRE(f->allocate(0, 64 * 1024).is_ok());
  auto g = create(fs, "/db/sst");
  write(*g, 0, bytes(5000, 's'));
  REQUIRE(fs.rename("/db/wal", "/db/wal.old").is_ok());
  CrashReport r = fs.crash(seed);
  std::string out = r.log;
  auto names = fs.list_dir("/db");
  REQUIRE(names.has_value());
  for (const std::string& name : *names) out += name + "=" + read(fs, "/db/" + name);
  return out;
}
}  // namespace

TEST_CASE("a crash is deterministic for a seed") {
  const std::uint64_t seed = base_seed();
  CHECK(crash_history(seed) == crash_history(seed));
  bool differs = false;
  for (std::uint64_t i = 1; i < 8 && !differs; ++i) {
    differs = crash_history(seed) != crash_history(seed + i);
  }
  CHECK(differs);
}

TEST_CASE("an unsynced extension may come back at its new size with garbage inside") {
  for (bool garbage : {true, false}) {
    FaultFileSystem fs;
    auto f = durable_file(fs, "f", bytes(100, 'A'));
    write(*f, 100, bytes(8000, 'B'));
    CrashOptions o;
    o.seed = base_seed();
    o.write_lands = 0.0;
    o.size_lands = 1.0;
    o.garbage_fill = garbage;
    CrashReport r = fs.simulate_crash(o);
    INFO(r.log);
    const std::string got = read(fs, "/db/f");
    REQUIRE(got.size() == 8100);
    CHECK(got.substr(0, 100) == std::string(100, 'A'));
    CHECK(got.substr(100) != std::string(8000, 'B'));
    CHECK((got.substr(100) == std::string(8000, '\0')) == !garbage);
    CHECK(r.sizes_changed == 1);
  }
}

namespace {

// A power loss that drops every pending write of "/db/f" and lands one of its size changes
// (which one: `seed`); the file's bytes afterwards, and the crash's decisions in `log`.
std::string crash_keeping_a_size(FaultFileSystem& fs, std::uint64_t seed, std::string& log) {
  CrashOptions o;
  o.seed = seed;
  o.write_lands = 0.0;
  o.size_lands = 1.0;
  log = fs.simulate_crash(o).log;
  return read(fs, "/db/f");
}

}  // namespace

TEST_CASE("an unsynced allocation or truncate extension comes back as zeros, never garbage") {
  for (bool by_truncate : {false, true}) {
    CAPTURE(by_truncate);
    // The landing size is drawn from the file's unsynced sizes (1100, 8192): try seeds
    // until the allocated size lands.
    bool seen = false;
    for (std::uint64_t i = 0; i < 64 && !seen; ++i) {
      FaultFileSystem fs;
      auto f = durable_file(fs, "f", bytes(100, 'A'));
      // Grown by a write past the end, then by allocate (or truncate) beyond it; then a
      // write inside the allocation, which the crash drops.
      write(*f, 100, bytes(1000, 'B'));
      REQUIRE((by_truncate ? f->truncate(8192) : f->allocate(0, 8192)));
      write(*f, 4096, bytes(512, 'C'));
      std::string log;
      const std::string got = crash_keeping_a_size(fs, base_seed() + i, log);
      INFO(log);
      CHECK(got.substr(0, 100) == std::string(100, 'A'));
      if (got.size() != 8192) continue;
      seen = true;
      CHECK(got.substr(1100) == std::string(8192 - 1100, '\0'));
      CHECK(got.substr(100, 1000) != std::string(1000, '\0'));  // garbage: grown by a write
    }
    CHECK(seen);
  }
}

TEST_CASE("a shrink and a growth over it land in order: the growth's bytes, not the old ones") {
  // The durable file is 8192 bytes of 'A'; it is truncated to 0, then allocated again
  // (what a file re-created with truncate and then reserved does), and before that grown
  // by a write: which size lands decides what the bytes read.
  bool seen_zeros = false, seen_empty = false;
  for (std::uint64_t i = 0; i < 64 && !(seen_zeros && seen_empty); ++i) {
    FaultFileSystem fs;
    auto f = durable_file(fs, "f", bytes(8192, 'A'));
    REQUIRE(f->truncate(0));
    REQUIRE(f->allocate(0, 8192));
    std::string log;
    const std::string got = crash_keeping_a_size(fs, base_seed() + i, log);
    INFO(log);
    if (got.empty()) {
      seen_empty = true;
    } else {
      REQUIRE(got.size() == 8192);
      CHECK(got == std::string(8192, '\0'));  // never the old 'A's
      seen_zeros = true;
    }
  }
  CHECK(seen_zeros);
  CHECK(seen_empty);
}

TEST_CASE("a size landing before a later allocate keeps the write growth's garbage") {
  bool seen = false;
  for (std::uint64_t i = 0; i < 64 && !seen; ++i) {
    FaultFileSystem fs;
    auto f = durable_file(fs, "f", bytes(100, 'A'));
    write(*f, 100, bytes(1000, 'B'));  // grows to 1100 by a write
    REQUIRE(f->truncate(0));
    REQUIRE(f->allocate(0, 8192));
    std::string log;
    const std::string got = crash_keeping_a_size(fs, base_seed() + i, log);
    INFO(log);
    if (got.size() != 1100) continue;
    seen = true;
    CHECK(got.substr(0, 100) == std::string(100, 'A'));
    CHECK(got.substr(100) != std::string(1000, '\0'));  // the later allocate did not land
    CHECK(got.substr(100) != std::string(1000, 'B'));    // nor the write
  }
  CHECK(seen);
}

TEST_CASE("a landed write past the durable size is cut off when the size does not land") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "f", bytes(100, 'A'));
  write(*f, 100, bytes(100, 'B'));
  CrashOptions o;
  o.seed = base_seed();
  o.write_lands = 1.0;
  o.size_lands = 0.0;
  fs.simulate_crash(o);
  CHECK(read(fs, "/db/f") == std::string(100, 'A'));
}

TEST_CASE("over the space limit writes fail with kNoSpace while reads and overwrites work") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "f", bytes(4096, 'A'));
  fs.set_space_limit(6000);
  CHECK(fs.used_bytes() == 4096);
  Status s = f->write_at(4096, bytes(4096, 'B'));
  CHECK(s.is_no_space());
  CHECK(f->allocate(0, 8192).is_no_space());
  CHECK(f->truncate(8192).is_no_space());
  CHECK(f->write_at(0, bytes(4096, 'C')).is_ok());  // no growth, no space needed
  CHECK(f->write_at(4096, bytes(1000, 'D')).is_ok());
  std::vector<std::byte> buf(5096);
  auto n = f->read_at(0, buf);
  REQUIRE(n.has_value());
  CHECK(*n == 5096);
  CHECK(f->truncate(100).is_ok());
  CHECK(fs.used_bytes() == 100);
  fs.set_space_limit(std::nullopt);
  CHECK(f->write_at(0, bytes(10000, 'E')).is_ok());
}

TEST_CASE("a bit flip changes one bit in what is read, and survives a crash") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "f", bytes("abcd"));
  REQUIRE(fs.inject_bit_flip("/db/f", 2, 0).is_ok());
  CHECK(read(fs, "/db/f") == "abbd");
  fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK(read(fs, "/db/f") == "abbd");
  CHECK_FALSE(fs.inject_bit_flip("/db/f", 4).is_ok());
  CHECK(fs.inject_bit_flip("/db/none", 0).is_not_found());
}

TEST_CASE("a hard link shares the file and survives a crash once its directory is synced") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "000007.sst", bytes("table"));
  REQUIRE(fs.make_dir("/db/checkpoint").is_ok());
  REQUIRE(fs.sync_dir("/db").is_ok());
  REQUIRE(fs.link("/db/000007.sst", "/db/checkpoint/000007.sst").is_ok());
  REQUIRE(fs.sync_dir("/db/checkpoint").is_ok());
  CHECK(fs.link("/db/000007.sst", "/db/checkpoint/000007.sst").code() == StatusCode::kIoError);
  write(*f, 5, bytes("+"));  // visible through both names
  CHECK(read(fs, "/db/checkpoint/000007.sst") == "table+");
  REQUIRE(f->sync().is_ok());
  REQUIRE(fs.remove("/db/000007.sst").is_ok());
  REQUIRE(fs.sync_dir("/db").is_ok());
  fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK_FALSE(*fs.exists("/db/000007.sst"));
  CHECK(read(fs, "/db/checkpoint/000007.sst") == "table+");
}

TEST_CASE("set_link_error makes links fail as across file systems until it is cleared") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "000008.sst", bytes("table"));
  REQUIRE(fs.make_dir("/db/other").is_ok());
  fs.set_link_error(EXDEV);
  Status refused = fs.link("/db/000008.sst", "/db/other/000008.sst");
  CHECK(refused.sys_errno() == EXDEV);
  CHECK_FALSE(*fs.exists("/db/other/000008.sst"));
  fs.simulate_crash(CrashOptions::keep_unsynced(1));
  CHECK(fs.link("/db/000008.sst", "/db/other/000008.sst").sys_errno() == EXDEV);  // stays
  CHECK(fs.counters().links == 0);
  fs.set_link_error(0);
  REQUIRE(fs.link("/db/000008.sst", "/db/other/000008.sst").is_ok());
  CHECK(fs.counters().links == 1);
  CHECK(read(fs, "/db/other/000008.sst") == "table");
}

TEST_CASE("direct IO rejects a misaligned offset, length or buffer") {
  FaultFileSystem fs;
  OpenOptions o = OpenOptions::read_write_create();
  o.direct = true;
  auto f = fs.open("data", o);
  REQUIRE(f.has_value());
  runtime::AlignedBuffer page(8192);
  CHECK((*f)->write_at(0, page.first(4096)).is_ok());
  CHECK((*f)->write_at(512, page.first(4096)).code() == StatusCode::kInvalidArgument);
  CHECK((*f)->write_at(0, page.first(512)).code() == StatusCode::kInvalidArgument);
  CHECK((*f)->write_at(0, page.span().subspan(8, 4096)).code() == StatusCode::kInvalidArgument);
  CHECK((*f)->read_at(0, page.first(4096)).has_value());
  CHECK((*f)->read_at(100, page.first(4096)).error().code() == StatusCode::kInvalidArgument);
  CHECK((*f)->read_at(0, page.first(100)).error().code() == StatusCode::kInvalidArgument);
  CHECK((*f)->read_at(0, page.span().subspan(8, 4096)).error().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("handles opened before a crash fail with an IO error") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "f", bytes("data"));
  fs.crash(base_seed());
  std::vector<std::byte> buf(4);
  CHECK(f->read_at(0, buf).error().code() == StatusCode::kIoError);
  CHECK(f->write_at(0, buf).code() == StatusCode::kIoError);
  CHECK(f->sync().code() == StatusCode::kIoError);
  CHECK(f->size().error().code() == StatusCode::kIoError);
  auto g = fs.open("/db/f", OpenOptions::read_only());
  REQUIRE(g.has_value());
  CHECK(*(*g)->read_at(0, buf) == 4);
}

TEST_CASE("a failed sync makes nothing durable and counts the writes that follow it") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "wal", bytes("a"));
  auto other = create(fs, "/db/other");
  fs.fail_next_sync("/db/wal");
  CHECK(other->sync().is_ok());  // armed for the WAL only
  write(*f, 1, bytes("b"));
  CHECK(f->sync().code() == StatusCode::kIoError);
  CHECK(fs.file_counters("/db/wal").writes_after_failed_sync == 0);
  write(*f, 2, bytes("c"));
  CHECK(f->sync().is_ok());  // a retry "succeeds", as on Linux; the counters tell
  const IoCounters c = fs.file_counters("/db/wal");
  CHECK(c.failed_syncs == 1);
  CHECK(c.writes_after_failed_sync == 1);
  CHECK(c.syncs_after_failed_sync == 1);
}

TEST_CASE("a failed sync leaves the write undurable") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "wal", bytes("a"));
  write(*f, 1, bytes("b"));
  fs.fail_next_sync();
  CHECK_FALSE(f->sync().is_ok());
  fs.simulate_crash(CrashOptions::lose_unsynced(1));
  CHECK(read(fs, "/db/wal") == "a");
}

TEST_CASE("an injected write failure changes nothing") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "wal", bytes("a"));
  fs.fail_next_write();
  CHECK(f->write_at(1, bytes("b")).code() == StatusCode::kIoError);
  CHECK(read(fs, "/db/wal") == "a");
  CHECK(f->write_at(1, bytes("b")).is_ok());
}

TEST_CASE("the file system's errors follow the contract") {
  FaultFileSystem fs;
  CHECK(fs.open("/db/x", OpenOptions::read_only()).error().is_not_found());
  CHECK(fs.open("/db/x", OpenOptions::read_write_create()).error().is_not_found());  // no /db
  REQUIRE(fs.make_dir("/db").is_ok());
  CHECK(fs.make_dir("/db").is_ok());
  CHECK(fs.make_dir("/db/a/b").is_not_found());
  CHECK(fs.open("/db/x", OpenOptions::read_only()).error().is_not_found());
  create(fs, "/db/x");
  OpenOptions exclusive = OpenOptions::read_write_create();
  exclusive.exclusive = true;
  CHECK(fs.open("/db/x", exclusive).error().code() == StatusCode::kIoError);
  CHECK(fs.open("/db/y", exclusive).has_value());
  CHECK(fs.remove("/db/missing").is_not_found());
  CHECK(fs.rename("/db/missing", "/db/z").is_not_found());
  CHECK(fs.list_dir("/nodir").error().is_not_found());
  CHECK(fs.sync_dir("/nodir").is_not_found());
  CHECK(fs.make_dir("/db/x").code() == StatusCode::kIoError);
  CHECK(fs.remove_dir("/db").code() == StatusCode::kIoError);  // not empty
  auto names = fs.list_dir("//db/./");
  REQUIRE(names.has_value());
  CHECK(*names == std::vector<std::string>{"x", "y"});
  auto ro = fs.open("/db/x", OpenOptions::read_only());
  REQUIRE(ro.has_value());
  CHECK((*ro)->write_at(0, bytes("no")).code() == StatusCode::kIoError);
  CHECK((*ro)->close().is_ok());
  CHECK_FALSE((*ro)->close().is_ok());
}

TEST_CASE("counters count syncs, directory syncs and bytes written per file") {
  FaultFileSystem fs;
  auto f = durable_file(fs, "a", bytes(10, 'a'));
  auto g = create(fs, "/db/b");
  write(*g, 0, bytes(7, 'b'));
  write(*g, 7, bytes(3, 'b'));
  REQUIRE(g->sync().is_ok());
  std::vector<std::byte> buf(4);
  REQUIRE(g->read_at(8, buf).has_value());
  CHECK(fs.counters().files.syncs == 2);
  CHECK(fs.counters().files.bytes_written == 20);
  CHECK(fs.counters().sync_dirs == 2);
  const IoCounters b = fs.file_counters("/db/b");
  CHECK(b.writes == 2);
  CHECK(b.bytes_written == 10);
  CHECK(b.syncs == 1);
  CHECK(b.reads == 1);
  CHECK(b.bytes_read == 2);
  CHECK(fs.file_counters("/db/a").bytes_written == 10);
}

TEST_CASE("yield_on_io lets other fibers run inside each call") {
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  runtime::Scheduler s;
  std::string trace;
  s.spawn([&] {
    auto f = create(fs, "f");
    trace += 'w';
    write(*f, 0, bytes("x"));
    trace += 'W';
  });
  s.spawn([&] {
    trace += 'o';
    s.yield();
    trace += 'O';
  });
  CHECK(s.run());
  CHECK(trace == "owOW");
}
