// Value-log garbage accounting, relocation picking and obsolete-file deletion: the pieces
// compaction drives (engine/vlog/vlog_garbage.h, vlog_relocation.h, obsolete_vlog_files.h).
#include <doctest/doctest.h>

#include <random>

#include "engine/version/file_names.h"
#include "engine/vlog/obsolete_vlog_files.h"
#include "engine/vlog/vlog_garbage.h"
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

TEST_CASE("vlog relocation copies records in their stored form, reading ahead in key order") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    // Values written compressed, in key order as a flush writes them; each has a random
    // half so the file (about 1.4 MiB) outgrows the first windows and the output fills
    // several 256 KiB chunks.
    std::mt19937_64 rng(7);
    std::vector<std::string> values;
    for (std::size_t i = 0; i < 400; ++i) {
      std::string v = "v" + std::to_string(i) + std::string(3000, static_cast<char>('a' + i % 26));
      for (std::size_t j = 0; j < 3000; ++j) v.push_back(static_cast<char>(rng()));
      values.push_back(std::move(v));
    }
    WrittenFile f = write_vlog(fs, "/v", 7, values);
    auto version = version_with(f);
    ValueLog log(fs, "/v", nullptr);
    std::uint64_t next_number = 20;
    ValueSeparatorOptions raw;  // the output would store values raw if it compressed itself
    raw.compression.type = CompressionType::kNone;
    raw.value_head_size = 4;
    ValueSeparator out(fs, "/v", raw, [&] { return next_number++; });
    VlogGarbageTracker garbage;
    runtime::RateLimiter limiter(0);  // unlimited, but it counts what it was charged
    VlogPrefetcher reader(log, version, &limiter);
    std::vector<ValuePointer> moved;
    for (std::size_t i = 0; i < values.size(); ++i) {
      ValuePointer old = f.pointers[i];
      if (i % 2 == 1) old.head = values[i].substr(0, 4);  // a head the old pointer kept
      auto m = relocate_value(reader, out, garbage, key_of(i), old.encode());
      REQUIRE_MESSAGE(m, m.status().to_string());
      CHECK(m->file_number == 20);
      // Without a head in the old pointer the head comes from the record's value.
      CHECK(m->head == values[i].substr(0, 4));
      moved.push_back(*m);
    }
    std::uint64_t old_bytes = 0;
    for (const ValuePointer& p : f.pointers) old_bytes += p.size;
    CHECK(garbage.pending().at(7) == old_bytes);
    // Read ahead: the records came in a few growing windows, not one read each, and every
    // byte read was charged to the limiter.
    CHECK(reader.stats().resolved == values.size());
    CHECK(reader.stats().windows >= 4);  // the window grew along the file
    CHECK(reader.stats().windows <= 12);
    CHECK(limiter.charged() == reader.stats().bytes);
    CHECK(reader.stats().bytes >= f.file_size - 2 * kPageSize);

    auto files = out.finish();
    REQUIRE(files);
    REQUIRE(files->size() == 1);
    VersionEdit edit;
    edit.add_vlog((*files)[0]);
    auto next = apply_edit(*version, edit);
    REQUIRE(next);
    VlogPrefetcher check(log, *next);
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto got = log.get(key_of(i), moved[i].encode(), **next);
      REQUIRE_MESSAGE(got, got.status().to_string());
      CHECK(*got == values[i]);
      // Still the zstd frame it was: copied, not decompressed and stored raw.
      auto record = check.resolve_record(key_of(i), moved[i].encode());
      REQUIRE(record);
      CHECK(record->compression == CompressionType::kZstd);
      CHECK(record->stored_value.size() < values[i].size());
    }

    // A wrong key is refused before anything is written or counted.
    VlogGarbageTracker none;
    ValueSeparator out2(fs, "/v", {}, [&] { return next_number++; });
    VlogPrefetcher reader2(log, version);
    CHECK(relocate_value(reader2, out2, none, "nope", f.pointers[1].encode())
              .status()
              .is_corruption());
    CHECK(none.empty());
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
