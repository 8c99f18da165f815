// Value-log garbage accounting, relocation picking and obsolete-file deletion: the pieces
// compaction drives (engine/vlog/vlog_garbage.h, vlog_relocation.h, obsolete_vlog_files.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "engine/version/file_names.h"
#include "engine/vlog/obsolete_vlog_files.h"
#include "engine/vlog/vlog_garbage.h"
#include "engine/vlog/vlog_prefetcher.h"
#include "engine/vlog/vlog_relocation.h"
#include "src/runtime/rate_limiter.h"
#include "tests/unit/engine/db/db_test_util.h"
#include "tests/unit/engine/vlog/vlog_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::vlog_test;
using cascade::engine::db_test::run_fiber;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

std::shared_ptr<const Version> version_of(std::initializer_list<VlogFile> files) {
  VersionEdit edit;
  for (const VlogFile& f : files) edit.add_vlog(f);
  auto v = apply_edit(Version(), edit);
  REQUIRE(v);
  return *v;
}

}  // namespace

TEST_CASE("vlog garbage: dropped pointers become per-file garbage deltas in an edit") {
  auto base = version_of({{10, 1000, 100}, {11, 2000, 0}});
  VlogGarbageTracker tracker;
  tracker.pointer_dropped(ValuePointer{10, 4096, 300, {}});
  REQUIRE(tracker.pointer_dropped(ValuePointer{10, 5000, 200, {}}.encode()));
  tracker.pointer_dropped(ValuePointer{11, 4096, 50, {}});
  CHECK(tracker.pending().at(10) == 500);
  CHECK(tracker.pointer_dropped("\xff\xff").is_corruption());

  VersionEdit edit;
  auto emptied = tracker.add_to_edit(edit, *base);
  REQUIRE(emptied);
  CHECK(emptied->empty());
  CHECK(tracker.empty());
  CHECK(edit.vlog_garbage.size() == 2);
  auto next = apply_edit(*base, edit);
  REQUIRE(next);
  CHECK((*next)->vlog_files().at(10).garbage_bytes == 600);
  CHECK((*next)->vlog_files().at(11).garbage_bytes == 50);

  // Survives a manifest round trip as deltas.
  std::string encoded;
  edit.encode_to(encoded);
  VersionEdit decoded;
  REQUIRE(decoded.decode_from(encoded));
  CHECK(decoded.vlog_garbage == edit.vlog_garbage);
}

TEST_CASE("vlog garbage: a file whose garbage reaches its size is removed by the same edit") {
  auto base = version_of({{10, 1000, 400}, {11, 2000, 0}});
  VlogGarbageTracker tracker;
  tracker.pointer_dropped(ValuePointer{10, 4096, 600, {}});
  tracker.pointer_dropped(ValuePointer{11, 4096, 1999, {}});
  VersionEdit edit;
  auto emptied = tracker.add_to_edit(edit, *base);
  REQUIRE(emptied);
  CHECK(*emptied == std::vector<std::uint64_t>{10});
  auto next = apply_edit(*base, edit);
  REQUIRE(next);
  CHECK(!(*next)->vlog_files().contains(10));
  CHECK((*next)->vlog_files().at(11).live_bytes() == 1);
}

TEST_CASE("vlog garbage: counting past a file's size or for an unknown file is Corruption") {
  auto base = version_of({{10, 1000, 400}});
  VlogGarbageTracker over;
  over.pointer_dropped(ValuePointer{10, 4096, 601, {}});
  VersionEdit edit;
  CHECK(over.add_to_edit(edit, *base).status().is_corruption());
  CHECK(edit.vlog_garbage.empty());
  VlogGarbageTracker unknown;
  unknown.pointer_dropped(ValuePointer{12, 4096, 1, {}});
  CHECK(unknown.add_to_edit(edit, *base).status().is_corruption());
  CHECK(edit.vlog_garbage.empty());
}

// A 400 KiB file whose record garbage is `ratio` of its record bytes (plus the most
// overhead a file can have: its two pages and 4095 bytes of padding).
VlogFile file_with_ratio(std::uint64_t number, double ratio) {
  const std::uint64_t size = 100 * 4096;
  return VlogFile{number, size,
                  3 * 4096 - 1 + static_cast<std::uint64_t>(ratio * static_cast<double>(size - 8192))};
}

TEST_CASE("vlog relocation picks only old files past the garbage ratio") {
  // Eight files, oldest first; the policy looks at the oldest quarter (two files).
  auto v = version_of({file_with_ratio(1, 0.6), file_with_ratio(2, 0.1), file_with_ratio(3, 0.9),
                       file_with_ratio(4, 0), file_with_ratio(5, 0), file_with_ratio(6, 0),
                       file_with_ratio(7, 0), file_with_ratio(8, 0.95)});
  RelocationPolicy policy;
  policy.garbage_ratio = 0.5;
  policy.age_cutoff = 0.25;
  CHECK(files_to_relocate(*v, policy) == std::set<std::uint64_t>{1});
  CHECK(needs_targeted_compaction(*v, policy));
  policy.age_cutoff = 0.5;
  CHECK(files_to_relocate(*v, policy) == std::set<std::uint64_t>{1, 3});
  policy.age_cutoff = 1.0;
  CHECK(files_to_relocate(*v, policy) == std::set<std::uint64_t>{1, 3, 8});
  policy.garbage_ratio = 0.7;
  CHECK(!needs_targeted_compaction(*v, policy));
  policy.garbage_ratio = 1.5;  // relocates nothing
  CHECK(files_to_relocate(*v, policy).empty());
}

TEST_CASE("vlog garbage ratio counts only record garbage, never the file's overhead") {
  CHECK(garbage_ratio(file_with_ratio(1, 0.25)) == doctest::Approx(0.25));
  // Just written: header, footer and any padding are garbage from the start, yet the
  // ratio is 0, so a relocation's own output is never picked again right away.
  CHECK(garbage_ratio(VlogFile{1, 100 * 4096, 2 * 4096}) == 0);
  CHECK(garbage_ratio(VlogFile{1, 100 * 4096, 3 * 4096 - 1}) == 0);
  // Nothing live: 1 whatever the size, even a file of one record page.
  CHECK(garbage_ratio(VlogFile{1, 100 * 4096, 100 * 4096}) == 1);
  CHECK(garbage_ratio(VlogFile{1, 3 * 4096, 3 * 4096}) == 1);
  CHECK(garbage_ratio(VlogFile{1, 3 * 4096, 3 * 4096 - 10}) == 0);
}

namespace {

// Values of about 6 KiB, compressible by half (a random half), so records are stored as
// zstd frames and a file of 400 outgrows several reads.
std::vector<std::string> relocation_values(std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<std::string> values;
  for (std::size_t i = 0; i < n; ++i) {
    std::string v = "v" + std::to_string(i) + std::string(3000, static_cast<char>('a' + i % 26));
    for (std::size_t j = 0; j < 3000; ++j) v.push_back(static_cast<char>(rng()));
    values.push_back(std::move(v));
  }
  return values;
}

// Checks that every moved pointer reads back its value, still stored compressed.
void check_moved(ValueLog& log, const Version& base, const std::vector<VlogFile>& written,
                 const std::vector<ValuePointer>& moved, const std::vector<std::string>& values) {
  VersionEdit edit;
  for (const VlogFile& v : written) edit.add_vlog(v);
  auto next = apply_edit(base, edit);
  REQUIRE(next);
  VlogPrefetcher check(log, *next);
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto got = log.get(key_of(i), moved[i].encode(), **next);
    REQUIRE_MESSAGE(got, got.status().to_string());
    CHECK(*got == values[i]);
    CHECK(moved[i].head == values[i].substr(0, 4));
    // Still the zstd frame it was: copied, not decompressed and stored raw.
    auto record = check.resolve_record(key_of(i), moved[i].encode());
    REQUIRE(record);
    CHECK(record->compression == CompressionType::kZstd);
    CHECK(record->stored_value.size() < values[i].size());
  }
}

ValueSeparatorOptions raw_output(std::uint64_t file_size = kDefaultVlogFileSize) {
  ValueSeparatorOptions raw;  // the output would store values raw if it compressed itself
  raw.compression.type = CompressionType::kNone;
  raw.value_head_size = 4;
  raw.vlog_file_size = file_size;
  return raw;
}

}  // namespace

TEST_CASE("vlog relocation copies records of a key-ordered file in a few large reads") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    const auto values = relocation_values(400);
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    std::uint64_t next_number = 20;
    ValueSeparator out(fs, "/v", raw_output(), [&] { return next_number++; });
    runtime::RateLimiter limiter(0);  // unlimited, but it counts what it was charged
    VlogRelocator relocator(log, version, out, {}, &limiter);
    std::vector<ValuePointer> moved;
    const std::uint64_t reads_before = fs.counters().files.reads;
    for (std::size_t i = 0; i < values.size(); ++i) {
      ValuePointer old = f.pointers[i];
      old.head = values[i].substr(0, 8);  // a head the old pointer kept
      auto m = relocator.relocate(key_of(i), old);
      REQUIRE_MESSAGE(m, m.status().to_string());
      CHECK(m->file_number == 20);
      CHECK(m->size == old.size);  // same header, key and frame
      moved.push_back(*m);
    }
    REQUIRE(relocator.flush());
    CHECK(out.reserved_bytes() == 0);
    const RelocatorStats& stats = relocator.stats();
    CHECK(stats.records == values.size());
    // Neighbours are read together: about 1.4 MiB in reads of at most 512 KiB.
    CHECK(stats.reads <= 6);
    CHECK(fs.counters().files.reads - reads_before == stats.reads);
    CHECK(limiter.charged() == stats.bytes);
    CHECK(stats.bytes >= f.file_size - 2 * kPageSize);
    CHECK(stats.bytes <= f.file_size + stats.reads * kPageSize);  // a page shared by two reads

    auto files = out.finish();
    REQUIRE(files);
    REQUIRE(files->size() == 1);
    check_moved(log, *version, *files, moved, values);
  });
}

TEST_CASE("vlog relocation reads records met at random offsets in parallel batches") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    // Records moved in a shuffled order, as compaction meets the records of a file of
    // values logged in arrival order; the output rolls to new files of about 256 KiB.
    const auto values = relocation_values(400);
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    std::uint64_t next_number = 20;
    ValueSeparator out(fs, "/v", raw_output(256 * 1024), [&] { return next_number++; });
    RelocatorOptions options;
    options.batch_memory = 1 << 20;
    options.merge_gap = 0;
    options.reads_in_flight = 16;  // a batch has more ranges than this
    VlogRelocator relocator(log, version, out, options);
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), std::mt19937_64(11));
    std::vector<ValuePointer> moved(values.size());
    std::vector<std::string> moved_values;
    std::vector<ValuePointer> moved_in_order;
    for (std::size_t i : order) {
      ValuePointer old = f.pointers[i];
      old.head = values[i].substr(0, 4);
      auto m = relocator.relocate(key_of(i), old);
      REQUIRE_MESSAGE(m, m.status().to_string());
      moved[i] = *m;
    }
    REQUIRE(relocator.flush());
    const RelocatorStats& stats = relocator.stats();
    CHECK(stats.records == values.size());
    CHECK(stats.batches >= 5);  // every roll and every MiB of buffers ran a batch
    CHECK(fs.counters().max_reads_in_flight == options.reads_in_flight);
    auto files = out.finish();
    REQUIRE(files);
    CHECK(files->size() >= 5);
    // Each output file holds what was reserved in it, in the order reserved.
    for (std::size_t i = 1; i < order.size(); ++i) {
      const ValuePointer& a = moved[order[i - 1]];
      const ValuePointer& b = moved[order[i]];
      CHECK((b.file_number > a.file_number ||
             (b.file_number == a.file_number && b.offset == a.offset + a.size)));
    }
    check_moved(log, *version, *files, moved, values);
  });
}

TEST_CASE("vlog relocation completes a pointer's short head from its record, still batched") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto values = relocation_values(40);
    values[3] = "ab";  // shorter than the head: its whole value is its head
    values[4] = "";
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    std::uint64_t next_number = 20;
    ValueSeparator out(fs, "/v", raw_output(), [&] { return next_number++; });
    VlogRelocator relocator(log, version, out, {});
    std::vector<ValuePointer> moved;
    std::size_t headless = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      ValuePointer old = f.pointers[i];  // written by write_vlog: no head
      if (i % 2 == 1) {
        old.head = values[i].substr(0, 4);
      } else {
        ++headless;
      }
      auto m = relocator.relocate(key_of(i), old);
      REQUIRE_MESSAGE(m, m.status().to_string());
      CHECK(m->head == values[i].substr(0, 4));
      moved.push_back(*m);
    }
    REQUIRE(relocator.flush());
    // Headless pointers (and the two short values: their heads are shorter than 4) had
    // their records read for the head; every move still went in one batch.
    CHECK(relocator.stats().head_reads == headless + 1);  // value 3 has an odd index
    CHECK(relocator.stats().batches == 1);
    auto files = out.finish();
    REQUIRE(files);
    VersionEdit edit;
    edit.add_vlog((*files)[0]);
    auto next = apply_edit(*version, edit);
    REQUIRE(next);
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto got = log.get(key_of(i), moved[i].encode(), **next);
      REQUIRE_MESSAGE(got, got.status().to_string());
      CHECK(*got == values[i]);
    }
  });
}

TEST_CASE("vlog relocation reports a wrong key or a damaged record as Corruption, a failed read as itself") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    const auto values = relocation_values(20);
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    std::uint64_t next_number = 20;
    RelocatorOptions options;  // no heads: every move is batched

    SUBCASE("wrong key") {
      ValueSeparator out(fs, "/v", {}, [&] { return next_number++; });
      VlogRelocator relocator(log, version, out, options);
      REQUIRE(relocator.relocate(key_of(0), f.pointers[0]));
      REQUIRE(relocator.relocate("nope", f.pointers[1]));  // reserved; read at flush
      CHECK(relocator.flush().is_corruption());
      // The error sticks, and the output cannot be finished with the move unmade.
      CHECK(relocator.relocate(key_of(2), f.pointers[2]).status().is_corruption());
      CHECK(relocator.flush().is_corruption());
      CHECK(!out.finish());
    }
    SUBCASE("a flipped bit in the record") {
      const ValuePointer& p = f.pointers[5];
      REQUIRE(fs.inject_bit_flip("/v/000007.vlog", p.offset + p.size / 2, 6));
      ValueSeparator out(fs, "/v", {}, [&] { return next_number++; });
      VlogRelocator relocator(log, version, out, options);
      for (std::size_t i = 0; i < values.size(); ++i) {
        REQUIRE(relocator.relocate(key_of(i), f.pointers[i]));
      }
      CHECK(relocator.flush().is_corruption());
    }
    SUBCASE("a failed read among reads in flight") {
      // Every record its own read, 8 in flight, reads yielding: the failed one fails the
      // batch only once the others have come back into buffers the batch still owns.
      fs.set_yield_on_io(true);
      options.merge_gap = 0;
      options.max_read = 1;
      options.reads_in_flight = 8;
      ValueSeparator out(fs, "/v", {}, [&] { return next_number++; });
      VlogRelocator relocator(log, version, out, options);
      for (std::size_t i = 0; i < values.size(); ++i) {
        REQUIRE(relocator.relocate(key_of(i), f.pointers[i]));
      }
      fs.fail_next_read("/v/000007.vlog");
      const Status failed = relocator.flush();
      CHECK(failed.code() == StatusCode::kIoError);  // not Corruption: reported as it was
      CHECK(failed.to_string().find("read (injected fault)") != std::string::npos);
      CHECK(fs.counters().max_reads_in_flight == options.reads_in_flight);  // the failed one too
      // Sticky: nothing more is reserved and the output is never finished with holes.
      CHECK(relocator.relocate(key_of(0), f.pointers[0]).status().code() == StatusCode::kIoError);
      CHECK(relocator.flush().code() == StatusCode::kIoError);
      CHECK(!out.finish());
    }
    SUBCASE("a pointer past the file") {
      ValueSeparator out(fs, "/v", {}, [&] { return next_number++; });
      VlogRelocator relocator(log, version, out, options);
      ValuePointer bad = f.pointers[0];
      bad.offset = f.file_size;
      REQUIRE(relocator.relocate(key_of(0), bad));
      CHECK(relocator.flush().is_corruption());
    }
  });
}

TEST_CASE("obsolete vlog files are deleted only once no live version names them") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    WrittenFile a = write_vlog(fs, "/v", 7, {"x"});
    WrittenFile b = write_vlog(fs, "/v", 8, {"y"});
    ObsoleteVlogFiles obsolete;
    obsolete.add(a.file_number);
    obsolete.add(b.file_number);
    ValueLog log(fs, "/v", nullptr);
    auto deleted = obsolete.delete_unreferenced(fs, "/v", {7}, &log);  // a reader holds 7
    REQUIRE(deleted);
    CHECK(*deleted == 1);
    CHECK(obsolete.pending() == 1);
    CHECK(*fs.exists("/v/000007.vlog"));
    CHECK(!*fs.exists("/v/000008.vlog"));
    deleted = obsolete.delete_unreferenced(fs, "/v", {}, &log);
    REQUIRE(deleted);
    CHECK(*deleted == 1);
    CHECK(obsolete.pending() == 0);
    CHECK(!*fs.exists("/v/000007.vlog"));
  });
}
