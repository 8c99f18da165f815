// Crash and fault tests of the VersionSet over the in-memory FaultFileSystem: a crash at
// every mutating call of a workload (creation, flushes, compactions, manifest rolls) must
// reopen to the last acknowledged state or the one in flight, never a mix, and never to a
// manifest naming a file that did not survive.
#include "engine/version/version_set.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <optional>

#include "engine/version/file_names.h"
#include "tests/support/fault_file_system.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/version/crash_point_file_system.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade::engine;
using cascade::Status;
using cascade::engine::testing::CrashPointFileSystem;
using cascade::engine::testing::run_in_fiber;
using cascade::engine::testing::table;
using cascade::test_support::CrashOptions;
using cascade::test_support::FaultFileSystem;

namespace {

const std::string kDir = "/db";

struct State {
  std::shared_ptr<const Version> version;
  SequenceNumber last_sequence = 0;
};

struct WorkloadLog {
  std::vector<State> acknowledged;
  std::optional<State> in_flight;
};

std::string file_contents(std::uint64_t number) { return "contents of " + std::to_string(number); }

// Writes and syncs a file with the contents file_contents(number): step 1 of the protocol.
Status write_file(cascade::runtime::FileSystem& fs, std::uint64_t number, const char* ext) {
  cascade::runtime::OpenOptions o = cascade::runtime::OpenOptions::read_write_create();
  o.truncate = true;
  auto f = fs.open(path_join(kDir, numbered_file_name(number, ext)), o);
  if (!f) return f.error();
  std::string data = file_contents(number);
  Status s = (*f)->write_at(0, {reinterpret_cast<const std::byte*>(data.data()), data.size()});
  if (s) s = (*f)->sync();
  Status closed = (*f)->close();
  return s ? closed : s;
}

// Edit i of the workload: flushes to L0 (the first also creates a value log and a WAL
// segment), every fourth a compaction of L0 into L1 that also counts value-log garbage.
cascade::Result<VersionEdit> workload_edit(VersionSet& set, cascade::runtime::FileSystem& fs, int i) {
  VersionEdit e;
  std::uint64_t n = set.new_file_number();
  if (Status s = write_file(fs, n, "sst"); !s) return s;
  std::string tag = std::to_string(100 + i);
  if (i % 4 == 0) {
    for (const auto& f : set.current()->files(0)) e.remove_table(0, f->file_number);
    e.add_table(1, table(n, "c" + tag + "a", "c" + tag + "z", 1, i * 10));
    e.add_vlog_garbage(set.current()->vlog_files().begin()->first, 10);
  } else {
    e.add_table(0, table(n, "k" + tag + "a", "k" + tag + "z", i * 10, i * 10));
    e.set_flushed_sequence(i * 10);
  }
  if (i == 1) {
    std::uint64_t vlog = set.new_file_number(), wal = set.new_file_number();
    if (Status s = write_file(fs, vlog, "vlog"); !s) return s;
    if (Status s = write_file(fs, wal, "wal"); !s) return s;
    e.add_vlog(VlogFile{vlog, 1000, 0});
    e.add_wal_segment(wal);
  }
  return e;
}

constexpr int kWorkloadEdits = 12;
constexpr int kCrashModes = 8;

void run_workload(cascade::runtime::FileSystem& fs, WorkloadLog& log) {
  VersionSetOptions options;
  options.max_manifest_bytes = 400;  // several rolls during the workload
  log.in_flight = State{std::make_shared<Version>(), 0};
  auto set = VersionSet::open_or_create(fs, kDir, options);
  if (!set) return;
  log.acknowledged.push_back(*log.in_flight);
  log.in_flight.reset();
  for (int i = 1; i <= kWorkloadEdits; ++i) {
    auto edit = workload_edit(**set, fs, i);
    if (!edit) return;
    (*set)->set_last_sequence(i * 10);
    auto next = apply_edit(*(*set)->current(), *edit);
    REQUIRE_MESSAGE(next, next.status().to_string());
    log.in_flight = State{*next, static_cast<SequenceNumber>(i * 10)};
    if (!(*set)->log_and_apply(*edit)) return;
    log.acknowledged.push_back(*log.in_flight);
    log.in_flight.reset();
  }
}

// Reopens after the crash and checks the state is one the workload may have left.
void check_recovery(FaultFileSystem& fs, const WorkloadLog& log) {
  auto set = VersionSet::open_or_create(fs, kDir);
  REQUIRE_MESSAGE(set, set.status().to_string());
  std::vector<State> allowed;
  if (!log.acknowledged.empty()) allowed.push_back(log.acknowledged.back());
  if (log.in_flight) allowed.push_back(*log.in_flight);
  REQUIRE(!allowed.empty());
  bool matched = false;
  for (const State& s : allowed) {
    matched |= (*set)->current()->same_state(*s.version) &&
               (*set)->last_sequence() == s.last_sequence;
  }
  CAPTURE((*set)->current()->debug_string());
  CHECK(matched);

  // Every file the recovered manifest names survived whole.
  for (std::uint64_t n : (*set)->live_files()) {
    std::string path;
    for (const char* ext : {"sst", "vlog", "wal"}) {
      std::string p = path_join(kDir, numbered_file_name(n, ext));
      if (*fs.exists(p)) path = p;
    }
    REQUIRE_MESSAGE(!path.empty(), "file " << n << " is missing");
    auto bytes = fs.contents(path);
    REQUIRE(bytes);
    CHECK(std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size()) ==
          file_contents(n));
  }
  // The obsolete files are exactly the ones no version names.
  auto listing = fs.list_dir(kDir);
  REQUIRE(listing);
  for (const std::string& name : (*set)->obsolete_files(*listing)) {
    auto n = parse_numbered_file(name);
    CHECK((!n || !(*set)->live_files().contains(*n)));
  }
}

}  // namespace

TEST_CASE("a version set crashed at any point reopens to the old or the new state") {
  std::uint64_t seed = cascade::testing::test_seed("version set crash matrix");
  run_in_fiber([&] {
    std::uint64_t mutations = 0;
    {
      FaultFileSystem fs;
      CrashPointFileSystem never(fs, UINT64_MAX, {});
      WorkloadLog log;
      run_workload(never, log);
      REQUIRE(log.acknowledged.size() == kWorkloadEdits + 1);
      mutations = never.mutations();
    }
    MESSAGE("crash points: " << mutations);
    for (std::uint64_t at = 0; at < mutations; ++at) {
      // Mode 0 loses everything unsynced, 1 keeps it all, the rest land a random part.
      for (int mode = 0; mode < kCrashModes; ++mode) {
        CrashOptions options;
        options.seed = seed + at * kCrashModes + mode;
        if (mode == 0) options = CrashOptions::lose_unsynced(options.seed);
        if (mode == 1) options = CrashOptions::keep_unsynced(options.seed);
        CAPTURE(at);
        CAPTURE(mode);
        FaultFileSystem fs;
        CrashPointFileSystem crashing(fs, at, options);
        WorkloadLog log;
        run_workload(crashing, log);
        REQUIRE(crashing.crashed());
        check_recovery(fs, log);
      }
    }
  });
}

TEST_CASE("a failed manifest sync poisons the version set and reopen gives the old state") {
  run_in_fiber([&] {
    FaultFileSystem fs;
    State before;
    {
      auto set = VersionSet::open_or_create(fs, kDir);
      REQUIRE(set);
      auto a = workload_edit(**set, fs, 1);
      REQUIRE(a);
      REQUIRE((*set)->log_and_apply(*a));
      before = {(*set)->current(), (*set)->last_sequence()};

      std::string manifest = path_join(kDir, manifest_file_name((*set)->manifest_file_number()));
      fs.fail_next_sync(manifest);
      auto b = workload_edit(**set, fs, 2);
      REQUIRE(b);
      Status s = (*set)->log_and_apply(*b);
      CHECK(!s);
      CHECK(!(*set)->poisoned().is_ok());
      CHECK((*set)->poisoned().message().find("refuses edits") != std::string::npos);
      CHECK((*set)->current() == before.version);

      auto c = workload_edit(**set, fs, 3);
      REQUIRE(c);
      CHECK((*set)->log_and_apply(*c).message() == s.message());
      auto counters = fs.file_counters(manifest);
      CHECK(counters.failed_syncs == 1);
      CHECK(counters.writes_after_failed_sync == 0);
      CHECK(counters.syncs_after_failed_sync == 0);
    }
    fs.simulate_crash(CrashOptions::lose_unsynced(1));
    auto set = VersionSet::open_or_create(fs, kDir);
    REQUIRE_MESSAGE(set, set.status().to_string());
    CHECK((*set)->current()->same_state(*before.version));
  });
}

TEST_CASE("a failed sync during a manifest roll poisons the version set") {
  run_in_fiber([&] {
    FaultFileSystem fs;
    VersionSetOptions options;
    options.max_manifest_bytes = 1;  // every edit rolls
    auto set = VersionSet::open_or_create(fs, kDir, options);
    REQUIRE(set);
    std::uint64_t manifest = (*set)->manifest_file_number();
    fs.fail_next_sync(path_join(kDir, std::string(kCurrentTempFileName)));
    VersionEdit e;
    e.set_flushed_sequence(5);
    CHECK(!(*set)->log_and_apply(e));
    CHECK(!(*set)->poisoned().is_ok());
    CHECK((*set)->manifest_file_number() == manifest);
    CHECK((*set)->current()->flushed_sequence() == 0);
  });
}

TEST_CASE("concurrent log_and_apply callers are applied one after another, none lost") {
  FaultFileSystem fs;
  fs.set_yield_on_io(true);  // every IO call yields, so the two fibers interleave
  cascade::runtime::testing::IoLoop loop;
  std::unique_ptr<VersionSet> set;
  loop.sched.spawn([&] {
    auto opened = VersionSet::open_or_create(fs, kDir);
    REQUIRE(opened);
    set = std::move(*opened);
  });
  REQUIRE(loop.run());
  constexpr int kPerFiber = 10;
  int done = 0;
  for (int fiber = 0; fiber < 2; ++fiber) {
    loop.sched.spawn([&, fiber] {
      for (int i = 0; i < kPerFiber; ++i) {
        VersionEdit e;
        std::uint64_t n = set->new_file_number();
        e.add_table(0, table(n, "f" + std::to_string(fiber), "g", n, n));
        if (i % 3 == 0) e.set_flushed_sequence(n);
        REQUIRE(set->log_and_apply(e));
        ++done;
      }
    });
  }
  REQUIRE(loop.run());
  CHECK(done == 2 * kPerFiber);
  CHECK(set->current()->num_files(0) == 2 * kPerFiber);
  std::shared_ptr<const Version> before = set->current();
  set.reset();
  loop.sched.spawn([&] {
    VersionSetOptions options;
    options.check_files_exist = false;  // the edits name tables never written
    auto reopened = VersionSet::open_or_create(fs, kDir, options);
    REQUIRE_MESSAGE(reopened, reopened.status().to_string());
    CHECK((*reopened)->current()->same_state(*before));
  });
  REQUIRE(loop.run());
}
