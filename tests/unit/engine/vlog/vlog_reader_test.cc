// Writing a value-log file and reading it back by pointer (ValueLog::get, with and without
// the block cache) and by scan (VlogPrefetcher): values of every size come back, and a
// flipped bit, a wrong key, a pointer outside the file or into a file the version does not
// hold is Corruption, never data.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "engine/cache/block_cache.h"
#include "engine/vlog/value_log.h"
#include "engine/vlog/vlog_appender.h"
#include "engine/vlog/vlog_prefetcher.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"
#include "tests/unit/engine/vlog/vlog_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::vlog_test;
using cascade::engine::db_test::run_fiber;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

std::vector<std::string> varied_values(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::string> values;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t size = i == 0 ? 0 : i == 1 ? 1 : i == 2 ? (1u << 20) : rng() % 9000;
    std::string v(size, '\0');
    bool compressible = rng() % 2 == 0;
    for (auto& c : v) c = static_cast<char>(compressible ? 'a' + rng() % 3 : rng());
    values.push_back(std::move(v));
  }
  return values;
}

}  // namespace

TEST_CASE("vlog values read back by pointer, through the block cache and without it") {
  const std::uint64_t seed = cascade::testing::test_seed("vlog read back");
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  BlockCache cache;
  run_fiber(loop, [&] {
    auto values = varied_values(rng, 300);
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    CHECK(f.file_size % kPageSize == 0);
    auto version = version_with(f);
    for (BlockCache* c : {static_cast<BlockCache*>(nullptr), &cache}) {
      ValueLog log(fs, "/v", c);
      for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < values.size(); ++i) {
          auto got = log.get(key_of(i), f.pointers[i].encode(), *version);
          REQUIRE_MESSAGE(got, got.status().to_string());
          REQUIRE(*got == values[i]);
        }
      }
      if (c) CHECK(log.stats().cache_hits > 0);
    }
  });
}

TEST_CASE("vlog point reads fetch the sectors around a record, not its pages") {
  const std::uint64_t seed = cascade::testing::test_seed("vlog sector reads");
  std::mt19937_64 rng(seed);
  IoLoop loop;
  for (std::uint32_t alignment : {512u, 4096u}) {
    CAPTURE(alignment);
    FaultFileSystem fs;
    fs.set_direct_read_alignment(alignment);  // and refuses reads aligned any coarser
    run_fiber(loop, [&] {
      std::vector<std::string> values;
      for (int i = 0; i < 100; ++i) {
        std::string v(4096, '\0');
        for (auto& c : v) c = static_cast<char>(rng());  // incompressible: stored raw
        values.push_back(std::move(v));
      }
      WrittenFile f = write_vlog(fs, "/v", 7, values);
      auto version = version_with(f);
      ValueLog log(fs, "/v", nullptr);
      const std::string path = "/v/" + vlog_file_name(7);
      const std::uint64_t before = fs.file_counters(path).bytes_read;
      std::uint64_t expected = 0;
      for (std::size_t i = 0; i < values.size(); ++i) {
        auto got = log.get(key_of(i), f.pointers[i].encode(), *version);
        REQUIRE_MESSAGE(got, got.status().to_string());
        REQUIRE(*got == values[i]);
        const ValuePointer& p = f.pointers[i];
        expected += runtime::align_up(p.offset + p.size, alignment) -
                    runtime::align_down(p.offset, alignment);
      }
      const std::uint64_t read = fs.file_counters(path).bytes_read - before;
      CHECK(read == expected);
      if (alignment == 512) {
        // About 4.6 KiB per 4 KiB value instead of the two pages (8 KiB) a record spans.
        CHECK(read < values.size() * 5120);
      } else {
        CHECK(read >= values.size() * 8192 * 9 / 10);
      }
    });
  }
}

TEST_CASE("vlog reads report Corruption for damage, wrong keys and bad pointers") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    std::vector<std::string> values = {std::string(100, 'a'), std::string(6000, 'b'), "c"};
    CompressionOptions raw;
    raw.type = CompressionType::kNone;
    WrittenFile f = write_vlog(fs, "/v", 7, values, raw);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    CHECK(log.get(key_of(0), f.pointers[0].encode(), *version).status().is_corruption() == false);
    CHECK(log.get("other", f.pointers[0].encode(), *version).status().is_corruption());
    ValuePointer past = f.pointers[2];
    past.offset = f.file_size;
    CHECK(log.get(key_of(2), past.encode(), *version).status().is_corruption());
    ValuePointer shifted = f.pointers[1];
    shifted.offset += 1;
    CHECK(log.get(key_of(1), shifted.encode(), *version).status().is_corruption());
    ValuePointer elsewhere = f.pointers[1];
    elsewhere.file_number = 8;
    CHECK(log.get(key_of(1), elsewhere.encode(), *version).status().is_corruption());
    CHECK(log.get(key_of(1), "junk", *version).status().is_corruption());
    // A flipped bit inside the second value.
    REQUIRE(fs.inject_bit_flip("/v/000007.vlog", f.pointers[1].offset + 3000, 2));
    ValueLog fresh(fs, "/v", nullptr);
    auto damaged = fresh.get(key_of(1), f.pointers[1].encode(), *version);
    CHECK(damaged.status().is_corruption());
    CHECK(fresh.get(key_of(0), f.pointers[0].encode(), *version));
    VlogPrefetcher prefetcher(fresh, version);
    CHECK(prefetcher.resolve(key_of(0), f.pointers[0].encode()));
    CHECK(prefetcher.resolve(key_of(1), f.pointers[1].encode()).status().is_corruption());
  });
}

TEST_CASE("vlog prefetcher serves a scan from a few growing windows") {
  const std::uint64_t seed = cascade::testing::test_seed("vlog prefetch");
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    std::vector<std::string> values;
    for (int i = 0; i < 2000; ++i) {
      std::string v(4096, '\0');
      for (auto& c : v) c = static_cast<char>(rng());
      values.push_back(std::move(v));
    }
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    VlogPrefetcher prefetcher(log, version);
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto got = prefetcher.resolve(key_of(i), f.pointers[i].encode());
      REQUIRE_MESSAGE(got, got.status().to_string());
      REQUIRE(*got == values[i]);
    }
    const VlogPrefetchStats& s = prefetcher.stats();
    MESSAGE("resolved " << s.resolved << " in " << s.windows << " windows, " << s.reads
                        << " reads");
    CHECK(s.resolved == values.size());
    // 8 MiB of values: past the ramp-up every window is kMaxReadahead, read in parts.
    const std::size_t bytes = values.size() * values[0].size();
    CHECK(s.windows < bytes / kMaxReadahead + 8);
    CHECK(s.reads >= 3 * s.windows);
    // Backwards the windows grow before the record: 200 values (800 KiB) take a few.
    VlogPrefetcher back(log, version);
    for (std::size_t i = values.size(); i-- > values.size() - 200;) {
      auto got = back.resolve(key_of(i), f.pointers[i].encode());
      REQUIRE(got);
      REQUIRE(*got == values[i]);
    }
    MESSAGE("backward: " << back.stats().windows << " windows");
    CHECK(back.stats().windows < 10);
  });
}

// Records met at random offsets (a file of values logged at write time, in arrival order,
// read by GC's relocation in key order): each miss far from the last window reads the
// record's pages alone, not a readahead that grows with every miss.
TEST_CASE("vlog prefetcher reads only the record's pages at random offsets") {
  const std::uint64_t seed = cascade::testing::test_seed("vlog prefetch random");
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    std::vector<std::string> values;
    for (int i = 0; i < 2000; ++i) {
      std::string v(2000, '\0');
      for (auto& c : v) c = static_cast<char>(rng());
      values.push_back(std::move(v));
    }
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    VlogPrefetcher prefetcher(log, version);
    std::vector<std::size_t> order(values.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(300);
    for (std::size_t i : order) {
      auto got = prefetcher.resolve(key_of(i), f.pointers[i].encode());
      REQUIRE_MESSAGE(got, got.status().to_string());
      REQUIRE(*got == values[i]);
    }
    const VlogPrefetchStats& s = prefetcher.stats();
    MESSAGE("300 random records: " << s.windows << " windows, " << s.bytes << " bytes");
    // A 2,000-byte record spans at most 2 pages; the first miss of the file may read
    // kInitialReadahead more, and a miss that lands near the last window may grow one.
    CHECK(s.bytes < 300 * 2 * 4096 + 40 * kMaxReadahead);
    CHECK(s.bytes < 300 * 16 * 1024);
  });
}

TEST_CASE("read_in_parallel reads a range in parts and stops at end of file") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    std::vector<std::string> values(400, std::string(3000, 'x'));
    for (std::size_t i = 0; i < values.size(); ++i) values[i][0] = static_cast<char>(i);
    CompressionOptions raw;
    raw.type = CompressionType::kNone;
    WrittenFile f = write_vlog(fs, "/v", 7, values, raw);
    auto contents = fs.contents("/v/000007.vlog");
    REQUIRE(contents);
    auto file = fs.open("/v/000007.vlog", [] {
      auto o = runtime::OpenOptions::read_only();
      o.direct = true;
      return o;
    }());
    REQUIRE(file);
    runtime::AlignedBuffer buffer(f.file_size + 8 * kPageSize);  // past the end
    std::uint64_t reads = 0;
    auto n = read_in_parallel(**file, kPageSize, buffer.span(), 4, 64 * 1024, &reads);
    REQUIRE(n);
    CHECK(*n == f.file_size - kPageSize);
    CHECK(reads == 4);
    CHECK(std::memcmp(buffer.data(), contents->data() + kPageSize, *n) == 0);
    REQUIRE((*file)->close());
  });
}

TEST_CASE("an appender writes a large pending record in pieces, other fibers running between them") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    REQUIRE(fs.make_dir("/v"));
    CompressionOptions raw;
    raw.type = CompressionType::kNone;
    auto created = VlogAppender::create(fs, "/v", 9, raw);
    REQUIRE(created);
    VlogAppender& appender = **created;
    std::mt19937_64 rng(5);
    std::vector<std::string> values = {"small",
                                       std::string(3 * VlogAppender::kWritePiece + 999, '\0'), "x"};
    for (char& c : values[1]) c = static_cast<char>(rng());
    std::uint64_t bound = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      bound += VlogAppender::record_bound(key_of(i).size(), values[i].size());
    }
    REQUIRE(appender.reserve(bound));
    std::vector<ValuePointer> pointers;
    for (std::size_t i = 0; i < values.size(); ++i) {
      pointers.push_back(appender.append(key_of(i), values[i], 16));
    }
    // A fiber that counts its turns while the write runs.
    bool done = false;
    int turns = 0;
    runtime::FiberHandle counter = runtime::Scheduler::current()->spawn([&] {
      while (!done) {
        ++turns;
        runtime::this_fiber::yield();
      }
    });
    REQUIRE(appender.write_out());
    done = true;
    counter.join();
    // Four pieces (the header page and three records in ~3 MiB), a turn after each but
    // the last; one pwrite of it all gave none.
    CHECK(turns >= 3);
    CHECK(appender.written_out());

    auto size = appender.finish();
    REQUIRE(size);
    auto version = version_with(WrittenFile{9, *size, pointers});
    ValueLog log(fs, "/v", nullptr);
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto got = log.get(key_of(i), pointers[i].encode(), *version);
      REQUIRE_MESSAGE(got, got.status().to_string());
      CHECK((*got == values[i]));
    }
  });
}
