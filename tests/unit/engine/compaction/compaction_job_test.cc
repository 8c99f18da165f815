// run_compaction_job over real tables on the fault-injecting file system: merged output
// cut at the target size between user keys, synced outputs, the edit, the value hooks'
// share of the edit, cleanup after a failure, and the rate limiter.
#include "engine/compaction/compaction_job.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "engine/table/table_builder.h"
#include "engine/table/table_reader.h"
#include "engine/table_cache.h"
#include "engine/version/file_names.h"
#include "tests/support/fault_file_system.h"
#include "tests/unit/engine/compaction/compaction_test_util.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::compaction_test;
using cascade::engine::testing::ikey;
using cascade::test_support::FaultFileSystem;

namespace {

const std::string kDir = "/db";

std::string key_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%05d", i);
  return buf;
}

// Writes a table of `entries` (internal key -> value, in order) as table `number`.
TableFile write_table(FaultFileSystem& fs, std::uint64_t number,
                      const std::map<std::string, std::string, InternalKeyLess>& entries) {
  runtime::OpenOptions o = runtime::OpenOptions::read_write_create();
  o.direct = true;
  auto file = fs.open(path_join(kDir, table_file_name(number)), o);
  REQUIRE(file);
  TableBuilderOptions b;
  b.file_number = number;
  TableBuilder builder(**file, b);
  for (const auto& [k, v] : entries) REQUIRE(builder.add(k, v));
  auto props = builder.finish();
  REQUIRE_MESSAGE(props, props.status().to_string());
  REQUIRE((*file)->close());
  TableFile t;
  t.file_number = number;
  t.file_size = props->file_size;
  t.smallest = props->smallest_key;
  t.largest = props->largest_key;
  t.smallest_sequence = props->smallest_sequence;
  t.largest_sequence = props->largest_sequence;
  return t;
}

std::vector<std::string> read_table(FaultFileSystem& fs, const TableFile& t,
                                    std::uint64_t* data_blocks = nullptr) {
  runtime::OpenOptions o = runtime::OpenOptions::read_only();
  o.direct = true;
  auto file = fs.open(path_join(kDir, table_file_name(t.file_number)), o);
  REQUIRE(file);
  auto reader = TableReader::open(**file, t.file_number, t.file_size);
  REQUIRE_MESSAGE(reader, reader.status().to_string());
  if (data_blocks != nullptr) *data_blocks += (*reader)->properties().num_data_blocks;
  std::vector<std::string> out;
  auto it = (*reader)->iterator();
  for (it->seek_to_first(); it->valid(); it->next()) out.push_back(describe(it->key(), it->value()));
  REQUIRE(it->status());
  (void)(*file)->close();
  return out;
}

struct JobFixture {
  runtime::testing::IoLoop loop;
  FaultFileSystem fs;
  VersionBuilder version;
  Compaction c;
  std::uint64_t next_number = 100;
  std::map<std::string, std::string> expected;  // user key -> newest value

  // L0: two overlapping tables (the second overwrites every third key); L1: one table.
  void build() {
    REQUIRE(fs.make_dir(kDir));
    std::map<std::string, std::string, InternalKeyLess> older, newer, l1;
    std::string pad(300, 'v');
    for (int i = 0; i < 600; ++i) {
      older[ikey(key_of(i), 10 + i)] = "old" + std::to_string(i) + pad;
      expected[key_of(i)] = "old" + std::to_string(i) + pad;
    }
    for (int i = 0; i < 600; i += 3) {
      newer[ikey(key_of(i), 1000 + i)] = "new" + std::to_string(i) + pad;
      expected[key_of(i)] = "new" + std::to_string(i) + pad;
    }
    for (int i = 600; i < 700; ++i) {
      l1[ikey(key_of(i), 5)] = "l1" + pad;
      expected[key_of(i)] = "l1" + pad;
    }
    version.add(0, write_table(fs, 1, older));
    version.add(0, write_table(fs, 2, newer));
    version.add(1, write_table(fs, 3, l1));
    c.level = 0;
    c.output_level = 1;
    c.version = version.version;
    c.inputs[0] = version.version->files(0);
    c.inputs[1] = version.version->files(1);
    c.max_grandparent_overlap = 1 << 30;
  }

  CompactionJobOptions options() {
    CompactionJobOptions o;
    o.dir = kDir;
    o.output.target_file_size = 64 << 10;
    o.output.compression.type = CompressionType::kNone;
    o.new_file_number = [this] { return next_number++; };
    return o;
  }

  std::vector<std::string> table_names() {
    auto listing = fs.list_dir(kDir);
    REQUIRE(listing);
    std::vector<std::string> out;
    for (const auto& n : *listing) {
      if (n.ends_with(".sst")) out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void run(std::function<void()> fn) {
    loop.sched.spawn(std::move(fn), {.stack = runtime::StackSize::kLarge});
    REQUIRE(loop.run(std::chrono::seconds(120)));
  }
};

}  // namespace

TEST_CASE("compaction job merges its inputs into synced tables cut between user keys") {
  JobFixture f;
  f.run([&] {
    f.build();
    CompactionJobOptions o = f.options();
    std::uint64_t pauses = 0;
    o.pause = [&] {
      ++pauses;
      return Status::ok();
    };
    auto r = run_compaction_job(f.fs, f.c, o);
    REQUIRE_MESSAGE(r, r.status().to_string());
    REQUIRE(r->outputs.size() >= 3);  // ~230 KiB of values, 64 KiB targets
    std::uint64_t blocks = 0;
    std::vector<std::string> all;
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < r->outputs.size(); ++i) {
      const TableFile& t = r->outputs[i];
      bytes += t.file_size;
      CHECK(f.fs.file_counters(path_join(kDir, table_file_name(t.file_number))).syncs >= 1);
      if (i > 0) CHECK(r->outputs[i - 1].largest_user_key() < t.smallest_user_key());
      auto entries = read_table(f.fs, t, &blocks);
      all.insert(all.end(), entries.begin(), entries.end());
    }
    // Exactly the newest version of every key, each once.
    REQUIRE(all.size() == f.expected.size());
    std::size_t i = 0;
    for (const auto& [k, v] : f.expected) {
      CHECK(all[i].starts_with(k + "@"));
      CHECK(all[i].ends_with("=" + v));
      ++i;
    }
    CHECK(r->entries.superseded == 200);
    // At least one pause per output block but the last of each table (cut when finished).
    CHECK(pauses + r->outputs.size() >= blocks);
    CHECK(blocks > 30);
    CHECK(r->io.written == bytes);
    CHECK(r->io.read > 0);
    CHECK(r->edit.tables_removed.size() == 3);
    CHECK(r->edit.tables_added.size() == r->outputs.size());
    for (const auto& a : r->edit.tables_added) CHECK(a.level == 1);
    auto next = apply_edit(*f.version.version, r->edit);
    REQUIRE_MESSAGE(next, next.status().to_string());
    CHECK((*next)->num_files(0) == 0);
  });
}

TEST_CASE("compaction job lets the value hooks add to its edit") {
  JobFixture f;
  FakeValueLog log;
  log.garbage_file = 77;
  f.run([&] {
    f.build();
    CompactionJobOptions o = f.options();
    o.value_hooks = &log;
    auto r = run_compaction_job(f.fs, f.c, o);
    REQUIRE(r);
    CHECK(log.finished_jobs == 1);
    CHECK(log.dropped.size() == 200);
    REQUIRE(r->edit.vlog_garbage.size() == 1);
    CHECK(r->edit.vlog_garbage[0].file_number == 77);
    CHECK(r->edit.vlog_garbage[0].more_garbage_bytes == 200);
  });
}

TEST_CASE("a failed compaction job leaves no output file behind") {
  JobFixture f;
  f.run([&] {
    f.build();
    auto before = f.table_names();
    SUBCASE("a write fails") { f.fs.fail_next_write(); }
    SUBCASE("the pause asks it to stop") {}
    CompactionJobOptions o = f.options();
    int pauses = 0;
    o.pause = [&] { return ++pauses < 3 ? Status::ok() : Status::shutdown("closing"); };
    auto r = run_compaction_job(f.fs, f.c, o);
    CHECK(!r);
    CHECK(f.table_names() == before);
  });
}

TEST_CASE("compaction job IO passes the rate limiter") {
  JobFixture f;
  f.run([&] {
    f.build();
    runtime::RateLimiter limiter(1 << 20);  // 1 MiB/s, 100 KiB burst
    CompactionJobOptions o = f.options();
    o.rate_limiter = &limiter;
    auto start = runtime::Clock::now();
    auto r = run_compaction_job(f.fs, f.c, o);
    REQUIRE(r);
    double seconds = std::chrono::duration<double>(runtime::Clock::now() - start).count();
    double bytes = static_cast<double>(r->io.read + r->io.written);
    // Everything past the first burst waited for tokens.
    CHECK(seconds >= (bytes - (100 << 10)) / (1 << 20) * 0.9);
    CHECK(bytes > 300 << 10);
  });
}
