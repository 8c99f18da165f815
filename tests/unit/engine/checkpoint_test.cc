// Checkpoints (engine/checkpoint.cc, engine/db_checkpoint.cc) over FaultFileSystem: the
// checkpoint opens to exactly the data as of its sequence while the source keeps writing
// and loses its files; links fall back to copies; value-log files are shared too; and a
// crash at any point of a checkpoint leaves the source whole and the checkpoint either
// whole or refused (no CURRENT), never wrong.
#include "engine/checkpoint.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <random>
#include <set>
#include <string>

#include "engine/db.h"
#include "engine/version/file_names.h"
#include "src/runtime/wait_group.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"
#include "tests/unit/engine/version/crash_point_file_system.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::engine::testing::CrashPointFileSystem;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::CrashOptions;
using cascade::test_support::FaultFileSystem;

namespace {

using Model = std::map<std::string, std::string>;

DBOptions existing_only(DBOptions o) {
  o.versions.create_if_missing = false;
  return o;
}

Model scan(DB& db) {
  Model out;
  auto it = db.iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    out.emplace(std::string(it->key()), std::string(it->value()));
  }
  REQUIRE_MESSAGE(it->status(), it->status().to_string());
  return out;
}

// Random puts (a few values big enough to fill a memtable alone) and deletes on `model`.
void random_writes(DB& db, Model& model, std::mt19937_64& rng, int count) {
  for (int i = 0; i < count; ++i) {
    std::string key = "k" + std::to_string(rng() % 500);
    if (rng() % 5 == 0) {
      REQUIRE(db.del(key));
      model.erase(key);
      continue;
    }
    std::size_t size = rng() % 50 == 0 ? 64 << 10 : rng() % 300;
    std::string value(size, static_cast<char>('a' + rng() % 26));
    value += std::to_string(rng());
    REQUIRE(db.put(key, value));
    model[key] = value;
  }
}

// Removes every numbered file of `dir`, as compactions and deletions would in time.
void remove_numbered_files(FaultFileSystem& fs, const std::string& dir) {
  auto listing = fs.list_dir(dir);
  REQUIRE(listing);
  for (const std::string& name : *listing) {
    if (parse_numbered_file(name)) REQUIRE(fs.remove(path_join(dir, name)));
  }
}

}  // namespace

TEST_CASE("a checkpoint opens to the data as of its sequence while the source moves on") {
  const std::uint64_t seed = cascade::testing::test_seed("checkpoint model");
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  Model model;
  Model at_first;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    random_writes(*db, model, rng, 3000);
    auto info = db->checkpoint("/cp1");
    REQUIRE_MESSAGE(info, info.status().to_string());
    at_first = model;
    CHECK(info->sequence == db->stats().last_sequence);
    CHECK(info->files_linked > 0);
    CHECK(info->files_copied == 0);
    CHECK(fs.counters().links == info->files_linked);

    random_writes(*db, model, rng, 3000);  // overwrites, deletes, more flushes
    auto second = db->checkpoint("/cp2");
    REQUIRE(second);
    CHECK(second->sequence > info->sequence);
    random_writes(*db, model, rng, 500);
    REQUIRE(db->close());
  });
  remove_numbered_files(fs, "/db");  // the source's tables go; the links keep them

  run_fiber(loop, [&] {
    auto first = open_db(fs, "/cp1", existing_only(small_options()));
    CHECK(scan(*first) == at_first);
    // The checkpoint is a database of its own: writing it changes nothing elsewhere.
    REQUIRE(first->put("only-in-cp1", "x"));
    REQUIRE(first->flush());
    REQUIRE(first->close());
    auto reopened = open_db(fs, "/cp1", existing_only(small_options()));
    Model expected = at_first;
    expected["only-in-cp1"] = "x";
    CHECK(scan(*reopened) == expected);
    REQUIRE(reopened->close());
  });
}

TEST_CASE("a checkpoint holds unflushed writes and the source's WAL keeps working") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("a", "1"));
    REQUIRE(db->put("b", "2"));
    REQUIRE(db->checkpoint("/cp"));
    REQUIRE(db->put("a", "changed"));
    REQUIRE(db->del("b"));
    REQUIRE(db->close());
    auto source = open_db(fs, "/db", small_options());
    CHECK(scan(*source) == Model{{"a", "changed"}});
    REQUIRE(source->close());
    auto cp = open_db(fs, "/cp", existing_only(small_options()));
    CHECK(scan(*cp) == Model{{"a", "1"}, {"b", "2"}});
    REQUIRE(cp->close());
  });
}

// Writers keep going on other fibers while the checkpoint flushes and links (every IO
// yields): the checkpoint holds exactly sequences 1..info.sequence, which include every
// write acknowledged before checkpoint() was called.
TEST_CASE("a checkpoint taken while writers run holds a gapless prefix of their writes") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  std::set<std::uint64_t> acked_before;
  SequenceNumber checkpoint_sequence = 0;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    bool stop = false;
    std::uint64_t next_id = 0;
    std::set<std::uint64_t> acked;
    runtime::WaitGroup writers;
    for (int f = 0; f < 3; ++f) {
      writers.add();
      loop.sched.spawn([&] {
        while (!stop) {
          std::uint64_t id = next_id++;
          REQUIRE(db->put("w" + std::to_string(id), std::string(900, 'v') + std::to_string(id)));
          acked.insert(id);
        }
        writers.done();
      });
    }
    for (int i = 0; i < 3000; ++i) runtime::this_fiber::yield();
    acked_before = acked;
    auto info = db->checkpoint("/cp");
    REQUIRE_MESSAGE(info, info.status().to_string());
    checkpoint_sequence = info->sequence;
    for (int i = 0; i < 1000; ++i) runtime::this_fiber::yield();
    stop = true;
    writers.wait();
    CHECK(db->stats().last_sequence > checkpoint_sequence);  // writes went on meanwhile
    REQUIRE(db->close());
  });
  REQUIRE(acked_before.size() > 100);
  run_fiber(loop, [&] {
    auto cp = open_db(fs, "/cp", existing_only(small_options()));
    std::set<SequenceNumber> sequences;
    std::set<std::uint64_t> ids;
    auto it = cp->iterator();
    for (it->seek_to_first(); it->valid(); it->next()) {
      sequences.insert(it->sequence());
      std::uint64_t id = std::stoull(std::string(it->key().substr(1)));
      CHECK(it->value() == std::string(900, 'v') + std::to_string(id));
      ids.insert(id);
    }
    REQUIRE(it->status());
    CHECK(sequences.size() == checkpoint_sequence);
    CHECK((sequences.empty() || *sequences.rbegin() == checkpoint_sequence));
    for (std::uint64_t id : acked_before) CHECK_MESSAGE(ids.count(id), "lost write " << id);
    REQUIRE(cp->close());
  });
}

TEST_CASE("a checkpoint copies the files when hard links are refused") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_link_error(EXDEV);
  Model model;
  std::mt19937_64 rng(7);
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    random_writes(*db, model, rng, 1500);
    auto info = db->checkpoint("/cp");
    REQUIRE_MESSAGE(info, info.status().to_string());
    CHECK(info->files_linked == 0);
    // Tables and value-log files alike (small_options() separates large values).
    const engine::DBStats stats = db->stats();
    CHECK(info->files_copied == stats.table_files + stats.vlog_files);
    CHECK(info->bytes_copied == stats.table_bytes + stats.vlog_bytes);
    REQUIRE(db->close());
  });
  CHECK(fs.counters().links == 0);
  remove_numbered_files(fs, "/db");
  run_fiber(loop, [&] {
    auto cp = open_db(fs, "/cp", existing_only(small_options()));
    CHECK(scan(*cp) == model);
    REQUIRE(cp->close());
  });
}

TEST_CASE("a checkpoint refuses a directory that exists") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("a", "1"));
    REQUIRE(fs.make_dir("/cp"));
    auto info = db->checkpoint("/cp");
    REQUIRE_FALSE(info);
    CHECK(info.error().code() == StatusCode::kInvalidArgument);
    REQUIRE(db->close());
  });
}

TEST_CASE("a checkpoint shares the value-log files its version names") {
  IoLoop loop;
  FaultFileSystem fs;
  auto write_file = [&](const std::string& path, const std::string& data) {
    auto f = fs.open(path, runtime::OpenOptions::read_write_create());
    REQUIRE(f);
    REQUIRE((*f)->write_at(0, {reinterpret_cast<const std::byte*>(data.data()), data.size()}));
    REQUIRE((*f)->sync());
    REQUIRE((*f)->close());
  };
  run_fiber(loop, [&] {
    auto set = VersionSet::open_or_create(fs, "/db");
    REQUIRE(set);
    std::uint64_t vlog = (*set)->new_file_number();
    std::uint64_t stale = (*set)->new_file_number();  // numbered, but named by no version
    write_file(path_join("/db", numbered_file_name(vlog, "vlog")), "values");
    write_file(path_join("/db", numbered_file_name(stale, "vlog")), "garbage");
    VersionEdit edit;
    edit.add_vlog({.file_number = vlog, .file_size = 6, .garbage_bytes = 2});
    REQUIRE((*set)->log_and_apply(edit));
    auto version = (*set)->current();
    auto info = write_checkpoint(fs, "/db", "/cp", *version, (*set)->new_file_number());
    REQUIRE_MESSAGE(info, info.status().to_string());
    CHECK(info->files_linked == 1);
    CHECK(*fs.exists(path_join("/cp", numbered_file_name(vlog, "vlog"))));
    CHECK_FALSE(*fs.exists(path_join("/cp", numbered_file_name(stale, "vlog"))));
    set->reset();

    VersionSetOptions existing;
    existing.create_if_missing = false;
    auto copy = VersionSet::open_or_create(fs, "/cp", existing);
    REQUIRE_MESSAGE(copy, copy.status().to_string());
    CHECK((*copy)->current()->vlog_files() == version->vlog_files());
  });
}

TEST_CASE("a checkpoint whose version names a missing file fails as corruption") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("a", "1"));
    REQUIRE(db->flush());
    REQUIRE(db->close());
  });
  remove_numbered_files(fs, "/db");
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.versions.check_files_exist = false;
    auto db = open_db(fs, "/db", options);
    auto info = db->checkpoint("/cp");
    REQUIRE_FALSE(info);
    CHECK(info.error().is_corruption());
    REQUIRE(db->close());
    CHECK_FALSE(*fs.exists("/cp/CURRENT"));
  });
}

// The source is built, flushed and closed first; then, for every mutating call n of
// "open the source, checkpoint it", a fresh copy of that history crashes at call n.
// Automatic compaction is off: a compaction the open starts would interleave its calls
// with the checkpoint's at the scheduler's whim, so the sweep's count of calls would not
// be the crash runs' count.
TEST_CASE("a crash during a checkpoint leaves the source whole and the checkpoint refused or whole") {
  const std::uint64_t seed = cascade::testing::test_seed("checkpoint crash");
  CAPTURE(seed);
  auto small_options = [] {
    DBOptions options = db_test::small_options();
    options.compaction.disable_auto_compactions = true;
    return options;
  };
  Model model;
  auto build_source = [&](FaultFileSystem& fs, IoLoop& loop) {
    std::mt19937_64 rng(seed);
    model.clear();
    run_fiber(loop, [&] {
      auto db = open_db(fs, "/db", small_options());
      random_writes(*db, model, rng, 1200);
      REQUIRE(db->flush());
      REQUIRE(db->close());
    });
  };
  std::uint64_t total = 0;
  {
    IoLoop loop;
    FaultFileSystem inner;
    build_source(inner, loop);
    CrashPointFileSystem fs(inner, UINT64_MAX, CrashOptions{});
    run_fiber(loop, [&] {
      auto db = open_db(fs, "/db", small_options());
      REQUIRE(db->checkpoint("/cp"));
      total = fs.mutations();  // the calls of close() are not the checkpoint's
      REQUIRE(db->close());
    });
  }
  int refused = 0, whole = 0;
  for (std::uint64_t n = 0; n < total; ++n) {
    CAPTURE(n);
    IoLoop loop;
    FaultFileSystem inner;
    build_source(inner, loop);
    CrashPointFileSystem fs(inner, n, CrashOptions{.seed = seed + n});
    run_fiber(loop, [&] {
      auto db = DB::open(fs, "/db", small_options());
      if (db) {
        CHECK_FALSE((*db)->checkpoint("/cp"));
        (void)(*db)->close();
      }
    });
    REQUIRE(fs.crashed());
    run_fiber(loop, [&] {
      auto source = open_db(inner, "/db", small_options());
      CHECK(scan(*source) == model);
      REQUIRE(source->close());
      const bool has_current = *inner.exists("/cp/CURRENT");
      auto cp = DB::open(inner, "/cp", existing_only(small_options()));
      CHECK(cp.has_value() == has_current);
      if (cp) {
        ++whole;
        CHECK(scan(**cp) == model);
        REQUIRE((*cp)->close());
      } else {
        ++refused;
        CHECK((cp.error().is_not_found() || cp.error().is_corruption()));
      }
    });
  }
  MESSAGE("crash points: " << total << ", checkpoint refused " << refused << ", whole " << whole);
  CHECK(refused > 0);
}
