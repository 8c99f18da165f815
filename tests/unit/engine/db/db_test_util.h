// Test support for the engine tests: a DB over FaultFileSystem driven by an IoLoop, small
// memtables and a WAL big enough for 1 MiB values, a first-byte prefix extractor, and tiny
// levels for the compaction tests.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/db.h"
#include "tests/support/fault_file_system.h"
#include "tests/unit/runtime/io_test_loop.h"

namespace cascade::engine::db_test {

inline const PrefixExtractor kFirstByte{
    "first-byte", [](std::string_view key) -> std::optional<std::string_view> {
      if (key.empty()) return std::nullopt;
      return key.substr(0, 1);
    }};

// Many flushes: a 256 KiB memtable (the arena takes 64 KiB blocks); 4 WAL segments of 4 MiB so a 1 MiB batch fits.
inline DBOptions small_options() {
  DBOptions o;
  o.memtable_size = 256 << 10;
  o.wal.geometry.segment_count = 4;
  o.wal.geometry.segment_size = 4 << 20;
  o.wal.log = [](const std::string&) {};
  o.prefix_extractor = &kFirstByte;
  return o;
}

// small_options() with tiny levels so that compactions happen all the time: L1 holds
// 256 KiB, each level 4 times more, 64 KiB output tables.
inline DBOptions compacting_options() {
  DBOptions o = small_options();
  o.memtable_size = 128 << 10;
  o.compaction.base_level_size = 256 << 10;
  o.compaction.level_size_ratio = 4;
  o.compaction.target_file_size = 64 << 10;
  return o;
}

// The numbers of the table files in `dir` (tests: no leaked files).
inline std::set<std::uint64_t> table_files_in(runtime::FileSystem& fs, const std::string& dir) {
  auto listing = fs.list_dir(dir);
  REQUIRE_MESSAGE(listing, listing.status().to_string());
  std::set<std::uint64_t> out;
  for (const std::string& name : *listing) {
    if (name.ends_with(".sst")) out.insert(std::stoull(name.substr(0, name.find('.'))));
  }
  return out;
}

// Runs fn on a fiber (large stack: flushes compress) and drives the loop until every fiber
// finished.
inline void run_fiber(runtime::testing::IoLoop& loop, std::function<void()> fn) {
  runtime::SpawnOptions spawn;
  spawn.stack = runtime::StackSize::kLarge;
  loop.sched.spawn(std::move(fn), spawn);
  REQUIRE(loop.run(std::chrono::seconds(120)));
}

inline std::unique_ptr<DB> open_db(runtime::FileSystem& fs, const std::string& dir,
                                   const DBOptions& options) {
  auto db = DB::open(fs, dir, options);
  REQUIRE_MESSAGE(db, db.status().to_string());
  return std::move(*db);
}

inline std::optional<std::string> get_ok(DB& db, std::string_view key, const ReadOptions& o = {}) {
  auto r = db.get(key, o);
  REQUIRE_MESSAGE(r, r.status().to_string());
  return *r;
}

// Every key of `model` reads its value, and a scan forward and backward sees exactly the
// model, as of `snapshot` (null: the newest data).
inline void check_model(DB& db, const std::map<std::string, std::string>& model,
                        const Snapshot* snapshot = nullptr) {
  ReadOptions o;
  o.snapshot = snapshot;
  for (const auto& entry : model) {
    const auto& k = entry.first;
    auto got = get_ok(db, k, o);
    CAPTURE(k);
    REQUIRE(got.has_value());
    REQUIRE(*got == entry.second);
  }
  auto it = db.iterator(o);
  auto m = model.begin();
  for (it->seek_to_first(); it->valid(); it->next(), ++m) {
    REQUIRE(m != model.end());
    REQUIRE(it->key() == m->first);
    REQUIRE(it->value() == m->second);
  }
  REQUIRE_MESSAGE(it->status(), it->status().to_string());
  CHECK(m == model.end());
  auto r = model.rbegin();
  for (it->seek_to_last(); it->valid() && r != model.rend(); it->prev(), ++r) {
    REQUIRE(it->key() == r->first);
    REQUIRE(it->value() == r->second);
  }
  REQUIRE_MESSAGE(it->status(), it->status().to_string());
}

}  // namespace cascade::engine::db_test
