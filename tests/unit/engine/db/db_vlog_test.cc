// The engine with key-value separation: values at or above min_blob_size live in value-log
// files and the tree holds pointers. Checked against a map model through flushes and
// reopens with values of every size around the threshold, under snapshots, with a flipped
// bit in a value-log file, and across crashes (nothing synced lost, no value-log file
// leaked).
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "engine/db.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/wait_group.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

using Model = std::map<std::string, std::string>;
constexpr std::size_t kThreshold = 64;

DBOptions vlog_options() {
  DBOptions o = small_options();
  o.min_blob_size = kThreshold;
  o.vlog_file_size = 256 << 10;  // several files per flush now and then
  return o;
}

std::string random_key(std::mt19937_64& rng) {
  return "k" + std::to_string(rng() % 600);
}

std::string random_value(std::mt19937_64& rng) {
  std::size_t size;
  switch (rng() % 10) {
    case 0: size = 0; break;
    case 1: size = 1; break;
    case 2: size = kThreshold - 1 + rng() % 3; break;  // around the threshold
    case 3: size = rng() % 300 == 0 ? (1u << 20) : 100000 + rng() % 1000; break;
    default: size = rng() % 8000; break;
  }
  std::string v(size, '\0');
  bool compressible = rng() % 2 == 0;
  for (auto& c : v) c = static_cast<char>(compressible ? 'a' + rng() % 4 : rng());
  return v;
}

std::size_t vlog_files_in(FaultFileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  REQUIRE(names);
  std::size_t n = 0;
  for (const auto& name : *names) {
    if (name.ends_with(".vlog")) ++n;
  }
  return n;
}

// Reads of the directory's value-log files so far, scans' windows included.
std::uint64_t vlog_file_reads(FaultFileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  REQUIRE(names);
  std::uint64_t reads = 0;
  for (const auto& name : *names) {
    if (name.ends_with(".vlog")) reads += fs.file_counters(dir + "/" + name).reads;
  }
  return reads;
}

}  // namespace

TEST_CASE("db with a value log matches a map model through flushes and reopens") {
  const std::uint64_t seed = cascade::testing::test_seed("db vlog model");
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  Model model;
  run_fiber(loop, [&] {
    for (int round = 0; round < 3; ++round) {
      CAPTURE(round);
      // Files GC emptied are deleted by the fiber that logged their removal, which may still
      // be at it when a flush or compaction wait returns; open deletes what is left before
      // anything else runs. Checked on an open without background compaction: one started
      // by open could already be writing a relocation file while the directory is listed.
      {
        DBOptions still = vlog_options();
        still.compaction.max_background_compactions = 0;
        auto quiet = open_db(fs, "/db", still);
        CHECK(quiet->stats().vlog_files == vlog_files_in(fs, "/db"));
        REQUIRE(quiet->close());
      }
      auto db = open_db(fs, "/db", vlog_options());
      check_model(*db, model);
      for (int op = 0; op < 1200; ++op) {
        std::string k = random_key(rng);
        if (rng() % 6 == 0) {
          REQUIRE(db->del(k));
          model.erase(k);
        } else {
          std::string v = random_value(rng);
          REQUIRE(db->put(k, v));
          model[k] = v;
        }
        if (op % 300 == 299) check_model(*db, model);
      }
      REQUIRE(db->flush());
      check_model(*db, model);
      DBStats s = db->stats();
      MESSAGE("round " << round << ": flushes " << s.flushes << ", vlog files " << s.vlog_files
                       << ", vlog bytes " << s.vlog_bytes << ", tables " << s.table_bytes);
      CHECK(s.vlog_files > 0);
      CHECK(s.vlog_live_bytes + s.vlog_garbage_bytes == s.vlog_bytes);
      CHECK(s.vlog_bytes > s.table_bytes);  // most bytes are values in the log
      REQUIRE(db->close());
    }
  });
}

TEST_CASE("db min_blob_size 0 separates every value and kNeverSeparate none") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    for (std::size_t threshold : {std::size_t{0}, kNeverSeparate}) {
      CAPTURE(threshold);
      DBOptions o = small_options();
      o.min_blob_size = threshold;
      std::string dir = threshold == 0 ? "/all" : "/none";
      auto db = open_db(fs, dir, o);
      REQUIRE(db->put("empty", ""));
      REQUIRE(db->put("big", std::string(10000, 'b')));
      REQUIRE(db->flush());
      DBStats s = db->stats();
      CHECK(s.vlog_files == (threshold == 0 ? 1 : 0));
      CHECK(get_ok(*db, "empty") == std::string());
      CHECK(get_ok(*db, "big") == std::string(10000, 'b'));
      if (threshold == 0) {
        CHECK(s.vlog_live_bytes > 0);  // the big value (compressed) and the empty one
        CHECK(db->stats().vlog_reads + db->stats().vlog_cache_hits > 0);
      }
      REQUIRE(db->close());
    }
  });
}

TEST_CASE("db keeps each separated value's head in the tree; a walk of heads reads no value") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions o = vlog_options();
    o.vlog_value_head_size = 10;
    const std::string compressible(5000, 'c');
    std::string random(5000, '\0');
    std::mt19937_64 rng(7);
    for (auto& c : random) c = static_cast<char>(rng());
    const Model model = {
        {"a-small", "tiny"},                             // inline: its head is the value
        {"b-threshold", std::string(kThreshold, 't')},   // separated, exactly the threshold
        {"c-compressed", "0123456789" + compressible},   // stored compressed, head raw
        {"d-random", random},
    };
    {
      auto db = open_db(fs, "/db", o);
      for (const auto& [k, v] : model) REQUIRE(db->put(k, v));
      REQUIRE(db->flush());
      const std::uint64_t reads_before = vlog_file_reads(fs, "/db");
      ReadOptions heads;
      heads.resolve_values = false;
      auto it = db->iterator(heads);
      auto m = model.begin();
      for (it->seek_to_first(); it->valid(); it->next(), ++m) {
        REQUIRE(m != model.end());
        CHECK(it->key() == m->first);
        CHECK(it->type() == (m->second.size() >= kThreshold ? ValueType::kValuePointer
                                                            : ValueType::kValue));
        auto head = it->value_head();
        REQUIRE(head.has_value());
        CHECK(*head == m->second.substr(0, it->type() == ValueType::kValue ? m->second.size() : 10));
      }
      REQUIRE(it->status());
      CHECK(m == model.end());
      it.reset();
      CHECK(vlog_file_reads(fs, "/db") == reads_before);
      check_model(*db, model);  // resolving iterators and gets still see the values
      REQUIRE(db->close());
    }
    // Pointers written without heads (vlog_value_head_size 0, as before heads existed) are
    // read as they are: no head to show, the value still resolves.
    o.vlog_value_head_size = 0;
    auto db = open_db(fs, "/db", o);
    REQUIRE(db->put("e-headless", random));
    REQUIRE(db->flush());
    ReadOptions heads;
    heads.resolve_values = false;
    auto it = db->iterator(heads);
    it->seek("e-headless");
    REQUIRE(it->valid());
    CHECK(it->type() == ValueType::kValuePointer);
    CHECK(!it->value_head().has_value());
    it->seek("d-random");  // the earlier file's pointer keeps its head
    REQUIRE(it->valid());
    CHECK(it->value_head() == std::optional<std::string_view>(random.substr(0, 10)));
    it.reset();
    CHECK(get_ok(*db, "e-headless") == random);
    REQUIRE(db->close());
  });
}

TEST_CASE("db snapshots read old values that live in the value log") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", vlog_options());
    Model before;
    for (int i = 0; i < 200; ++i) {
      std::string v(1000 + i, static_cast<char>('a' + i % 26));
      REQUIRE(db->put("key" + std::to_string(i), v));
      before["key" + std::to_string(i)] = v;
    }
    REQUIRE(db->flush());
    Snapshot snap = db->snapshot();
    Model after = before;
    for (int i = 0; i < 200; i += 2) {
      std::string v(3000, static_cast<char>('A' + i % 26));
      REQUIRE(db->put("key" + std::to_string(i), v));
      after["key" + std::to_string(i)] = v;
    }
    REQUIRE(db->del("key1"));
    after.erase("key1");
    REQUIRE(db->flush());
    check_model(*db, before, &snap);
    check_model(*db, after);
    REQUIRE(db->close());
  });
}

TEST_CASE("db reports a flipped bit in a value-log file as corruption, on get and scan") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions o = vlog_options();
    o.block_cache_size = 0;
    o.compression.type = CompressionType::kNone;
    auto db = open_db(fs, "/db", o);
    REQUIRE(db->put("a", std::string(5000, 'x')));
    REQUIRE(db->flush());
    REQUIRE(db->close());
    auto names = fs.list_dir("/db");
    REQUIRE(names);
    std::string vlog;
    for (const auto& n : *names) {
      if (n.ends_with(".vlog")) vlog = n;
    }
    REQUIRE(!vlog.empty());
    REQUIRE(fs.inject_bit_flip("/db/" + vlog, kVlogHeaderSize + 2000, 5));
    db = open_db(fs, "/db", o);
    auto got = db->get("a");
    REQUIRE(!got);
    CHECK(got.error().is_corruption());
    auto it = db->iterator();
    it->seek_to_first();
    CHECK(!it->valid());
    CHECK(it->status().is_corruption());
    it.reset();
    REQUIRE(db->close());
  });
}

// Values separated at flush: a failed flush must remove the files it wrote. (Values
// logged at write time live in files the WAL names until a flush succeeds.)
TEST_CASE("db flush that fails writing its value log leaves no value-log file behind") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions o = vlog_options();
    o.separate_at_write = false;
    o.compression.type = CompressionType::kNone;
    o.memtable_size = 4 << 20;  // one flush, on demand
    auto db = open_db(fs, "/db", o);
    Model model;
    for (int i = 0; i < 200; ++i) {  // 800 KiB of values: the log's first chunk fills first
      std::string k = "key" + std::to_string(i), v(4000, static_cast<char>('a' + i % 26));
      REQUIRE(db->put(k, v));
      model[k] = v;
    }
    fs.fail_next_write();
    CHECK(!db->flush());
    CHECK(vlog_files_in(fs, "/db") == 0);
    (void)db->close();
    db = open_db(fs, "/db", o);  // the WAL still holds everything
    check_model(*db, model);
    REQUIRE(db->flush());
    CHECK(db->stats().vlog_files >= 3);  // 800 KiB in 256 KiB files
    CHECK(vlog_files_in(fs, "/db") == db->stats().vlog_files);
    check_model(*db, model);
    REQUIRE(db->close());
  });
}

TEST_CASE("db crash with a value log keeps synced writes and leaks no value-log file") {
  const std::uint64_t seed = cascade::testing::test_seed("db vlog crash");
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  DBOptions options = vlog_options();
  options.memtable_size = 128 << 10;
  std::map<std::string, std::string> synced;  // acknowledged with sync=true, never overwritten
  std::uint64_t next_id = 0;
  run_fiber(loop, [&] {
    for (int round = 0; round < 10; ++round) {
      CAPTURE(round);
      auto db = open_db(fs, "/db", options);
      CHECK(db->kept_vlog_files().size() == vlog_files_in(fs, "/db"));
      for (const auto& entry : synced) {
        const auto& k = entry.first;
        auto got = db->get(k);
        REQUIRE_MESSAGE(got, got.status().to_string());
        REQUIRE_MESSAGE(got->has_value(), "lost synced write " << k);
        REQUIRE(**got == entry.second);
      }
      auto it = db->iterator();
      for (it->seek_to_first(); it->valid(); it->next()) {
        REQUIRE(it->value().size() == 40 + std::stoull(std::string(it->key().substr(1))) % 900);
      }
      REQUIRE_MESSAGE(it->status(), it->status().to_string());
      it.reset();

      bool crashed = false;
      runtime::WaitGroup writers;
      for (int f = 0; f < 3; ++f) {
        writers.add();
        loop.sched.spawn([&, f] {
          while (!crashed) {
            std::uint64_t id = next_id++;
            std::string key = "w" + std::to_string(id);
            std::string value(40 + id % 900, static_cast<char>('a' + id % 26));
            bool sync = f == 0;
            if (!db->put(key, value, {.sync = sync})) break;
            if (sync && !crashed) synced[key] = value;
          }
          writers.done();
        });
      }
      int steps = 50 + static_cast<int>(rng() % 4000);
      for (int i = 0; i < steps; ++i) runtime::this_fiber::yield();
      crashed = true;
      (void)fs.crash(rng());
      writers.wait();
      (void)db->close();
    }
    auto db = open_db(fs, "/db", options);
    CHECK(db->kept_vlog_files().size() == vlog_files_in(fs, "/db"));
    MESSAGE("after crashes: " << synced.size() << " synced writes, " << db->stats().vlog_files
                              << " vlog files");
    REQUIRE(db->close());
  });
}
