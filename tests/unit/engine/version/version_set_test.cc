#include "engine/version/version_set.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "engine/version/current_file.h"
#include "engine/version/file_names.h"
#include "tests/support/fault_file_system.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade::engine;
using cascade::Status;
using cascade::engine::testing::run_in_fiber;
using cascade::engine::testing::table;
using cascade::runtime::real_file_system;
using cascade::runtime::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spill(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

VersionSetOptions no_file_check() {
  VersionSetOptions o;
  o.check_files_exist = false;
  return o;
}

std::unique_ptr<VersionSet> open(const std::string& dir, VersionSetOptions o = no_file_check()) {
  auto set = VersionSet::open_or_create(real_file_system(), dir, o);
  REQUIRE_MESSAGE(set, set.status().to_string());
  return std::move(*set);
}

Status open_status(const std::string& dir, VersionSetOptions o = no_file_check()) {
  Status s;
  run_in_fiber([&] { s = VersionSet::open_or_create(real_file_system(), dir, o).status(); });
  return s;
}

// A flush: a new L0 table with the next file number, covering sequences up to `seq`.
VersionEdit flush_edit(VersionSet& set, SequenceNumber seq) {
  VersionEdit e;
  std::uint64_t n = set.new_file_number();
  e.add_table(0, table(n, "k" + std::to_string(n), "k" + std::to_string(n) + "z", seq, seq));
  e.set_flushed_sequence(seq);
  return e;
}

struct Snapshot {
  std::shared_ptr<const Version> version;
  std::uint64_t next_file_number;
  SequenceNumber last_sequence;
};

Snapshot snapshot(VersionSet& set) {
  return {set.current(), set.next_file_number(), set.last_sequence()};
}

void check_same(VersionSet& set, const Snapshot& expected) {
  CHECK(set.current()->same_state(*expected.version));
  CHECK(set.last_sequence() == expected.last_sequence);
  // The reopen wrote a new manifest, so at least one number more.
  CHECK(set.next_file_number() > expected.next_file_number);
}

std::string manifest_path(const std::string& dir) {
  std::string path;
  run_in_fiber([&] {
    auto n = read_current(real_file_system(), dir);
    REQUIRE(n);
    path = dir + "/" + manifest_file_name(*n);
  });
  return path;
}

}  // namespace

TEST_CASE("a version set survives reopen with the same files, counters and metadata") {
  TempDir dir;
  Snapshot before;
  run_in_fiber([&] {
    auto set = open(dir.path());
    CHECK(set->current()->num_files(0) == 0);
    for (int i = 1; i <= 5; ++i) {
      set->set_last_sequence(i * 10);
      VersionEdit e = flush_edit(*set, i * 10);
      REQUIRE(set->log_and_apply(e));
    }
    VersionEdit compact;
    compact.remove_table(0, set->current()->files(0).back()->file_number);
    compact.add_table(1, table(set->new_file_number(), "a", "b", 1, 10));
    compact.add_vlog(VlogFile{set->new_file_number(), 5000, 0});
    compact.add_wal_segment(set->new_file_number());
    compact.shard = ShardIdentity{2, 4};
    compact.wal_layout = WalLayout{4, 1 << 20};
    REQUIRE(set->log_and_apply(compact));
    VersionEdit garbage;
    garbage.add_vlog_garbage(set->current()->vlog_files().begin()->first, 1234);
    REQUIRE(set->log_and_apply(garbage));
    before = snapshot(*set);
    CHECK(set->level_summaries()[0].files == 4);
    CHECK(set->level_summaries()[1].bytes == 1000);
  });
  run_in_fiber([&] {
    auto set = open(dir.path());
    check_same(*set, before);
    CHECK(set->current()->vlog_files().begin()->second.garbage_bytes == 1234);
    CHECK(set->current()->flushed_sequence() == 50);
    CHECK(set->recovered_torn_bytes() == 0);
  });
}

TEST_CASE("a version set rolls to a new manifest when the old one is large, and reopens") {
  TempDir dir;
  Snapshot before;
  std::uint64_t first_manifest = 0;
  VersionSetOptions o = no_file_check();
  o.max_manifest_bytes = 2000;
  run_in_fiber([&] {
    auto set = open(dir.path(), o);
    first_manifest = set->manifest_file_number();
    std::set<std::uint64_t> manifests{first_manifest};
    for (int i = 1; i <= 200; ++i) {
      set->set_last_sequence(i);
      VersionEdit e = flush_edit(*set, i);
      REQUIRE(set->log_and_apply(e));
      if (set->current()->num_files(0) > 20) {  // keep the snapshot small
        VersionEdit drop;
        for (const auto& f : set->current()->files(0)) drop.remove_table(0, f->file_number);
        REQUIRE(set->log_and_apply(drop));
      }
      CHECK(set->manifest_size() <= o.max_manifest_bytes + 1000);
      manifests.insert(set->manifest_file_number());
    }
    CHECK(manifests.size() > 5);
    before = snapshot(*set);
  });
  run_in_fiber([&] {
    auto set = open(dir.path(), o);
    check_same(*set, before);
    auto listing = real_file_system().list_dir(dir.path());
    REQUIRE(listing);
    auto obsolete = set->obsolete_files(*listing);
    // Every manifest but the live one is obsolete.
    std::size_t manifests = std::count_if(listing->begin(), listing->end(), [](auto& n) {
      return parse_manifest_number(n).has_value();
    });
    CHECK(obsolete.size() == manifests - 1);
    CHECK(std::find(obsolete.begin(), obsolete.end(), manifest_file_name(first_manifest)) !=
          obsolete.end());
  });
}

TEST_CASE("a version set reopens to the previous state when the last edit is torn anywhere") {
  TempDir dir;
  Snapshot before;
  std::string manifest, current;
  std::uint64_t last_record_size = 0;
  run_in_fiber([&] {
    auto set = open(dir.path());
    set->set_last_sequence(7);
    VersionEdit first = flush_edit(*set, 7);
    REQUIRE(set->log_and_apply(first));
    before = snapshot(*set);
    std::uint64_t size_before = set->manifest_size();
    set->set_last_sequence(9);
    VersionEdit second = flush_edit(*set, 9);
    REQUIRE(set->log_and_apply(second));
    last_record_size = set->manifest_size() - size_before;
  });
  std::string path = manifest_path(dir.path());
  std::string bytes = slurp(path);
  std::string current_bytes = slurp(dir.file("CURRENT"));
  for (std::uint64_t cut = bytes.size() - last_record_size; cut < bytes.size(); ++cut) {
    CAPTURE(cut);
    TempDir copy;
    spill(copy.file(std::filesystem::path(path).filename()), bytes.substr(0, cut));
    spill(copy.file("CURRENT"), current_bytes);
    run_in_fiber([&] {
      auto set = open(copy.path());
      check_same(*set, before);
      CHECK(set->recovered_torn_bytes() == cut - (bytes.size() - last_record_size));
    });
  }
}

TEST_CASE("a version set refuses a manifest damaged before its last record") {
  TempDir dir;
  run_in_fiber([&] {
    auto set = open(dir.path());
    for (int i = 0; i < 3; ++i) {
      VersionEdit e = flush_edit(*set, 1);
      REQUIRE(set->log_and_apply(e));
    }
  });
  std::string path = manifest_path(dir.path());
  std::string bytes = slurp(path);
  bytes[kManifestHeaderSize + 10] ^= 0x40;  // inside the first record (the snapshot)
  spill(path, bytes);
  Status s = open_status(dir.path());
  CHECK(s.is_corruption());
  CHECK(s.message().find("valid record follows") != std::string::npos);
}

TEST_CASE("a missing, garbage or dangling CURRENT is a clear error") {
  TempDir dir;
  run_in_fiber([&] { open(dir.path()); });
  std::string current = slurp(dir.file("CURRENT"));
  CHECK(current.starts_with("MANIFEST-"));
  CHECK(current.ends_with("\n"));

  spill(dir.file("CURRENT"), "garbage");
  Status s = open_status(dir.path());
  CHECK(s.is_corruption());
  CHECK(s.message().find("CURRENT") != std::string::npos);

  spill(dir.file("CURRENT"), "MANIFEST-x\n");
  CHECK(open_status(dir.path()).is_corruption());

  spill(dir.file("CURRENT"), "MANIFEST-999999\n");
  s = open_status(dir.path());
  CHECK(s.is_corruption());
  CHECK(s.message().find("does not exist") != std::string::npos);

  std::filesystem::remove(dir.file("CURRENT"));
  spill(dir.file("000003.sst"), "table");
  s = open_status(dir.path());
  CHECK(s.is_corruption());
  CHECK(s.message().find("CURRENT is missing") != std::string::npos);

  // Only manifests and no CURRENT: a creation that crashed before CURRENT; starts fresh.
  std::filesystem::remove(dir.file("000003.sst"));
  CHECK(open_status(dir.path()));
}

TEST_CASE("opening a directory without a version set fails unless asked to create one") {
  TempDir dir;
  VersionSetOptions o = no_file_check();
  o.create_if_missing = false;
  CHECK(open_status(dir.path(), o).is_not_found());
  CHECK(open_status(dir.path()));
  CHECK(open_status(dir.path(), o));
}

TEST_CASE("a version set checks at open that every file it names exists") {
  TempDir dir;
  std::uint64_t table_number = 0;
  run_in_fiber([&] {
    auto set = open(dir.path());
    VersionEdit e = flush_edit(*set, 1);
    table_number = e.tables_added[0].file.file_number;
    spill(dir.file(numbered_file_name(table_number, "sst")), "data");
    REQUIRE(set->log_and_apply(e));
  });
  CHECK(open_status(dir.path(), VersionSetOptions()));
  std::filesystem::remove(dir.file(numbered_file_name(table_number, "sst")));
  Status s = open_status(dir.path(), VersionSetOptions());
  CHECK(s.is_corruption());
  CHECK(s.message().find("no file with that number") != std::string::npos);
}

TEST_CASE("an edit that breaks a version invariant is refused without poisoning the set") {
  TempDir dir;
  run_in_fiber([&] {
    auto set = open(dir.path());
    VersionEdit e;
    e.add_table(1, table(set->new_file_number(), "a", "m"));
    REQUIRE(set->log_and_apply(e));
    std::uint64_t size = set->manifest_size();
    VersionEdit overlap;
    overlap.add_table(1, table(set->new_file_number(), "c", "d"));
    Status s = set->log_and_apply(overlap);
    CHECK(s.code() == cascade::StatusCode::kInvalidArgument);
    CHECK(set->manifest_size() == size);  // nothing written
    CHECK(set->poisoned().is_ok());
    VersionEdit fine;
    fine.add_table(1, table(set->new_file_number(), "n", "z"));
    CHECK(set->log_and_apply(fine));
    CHECK(set->current()->num_files(1) == 2);
  });
}

TEST_CASE("a manifest record a full disk refuses leaves the set unpoisoned: the next edit rolls a fresh manifest") {
  cascade::test_support::FaultFileSystem fs;
  run_in_fiber([&] {
    REQUIRE(fs.make_dir("/vs"));
    auto opened = VersionSet::open_or_create(fs, "/vs", no_file_check());
    REQUIRE(opened);
    auto set = std::move(*opened);
    VersionEdit first = flush_edit(*set, 10);
    REQUIRE(set->log_and_apply(first));
    const std::uint64_t manifest = set->manifest_file_number();

    fs.set_space_limit(fs.used_bytes());  // not a byte more
    VersionEdit refused = flush_edit(*set, 20);
    Status s = set->log_and_apply(refused);
    CHECK_MESSAGE(s.is_no_space(), s.to_string());
    CHECK(set->poisoned().is_ok());
    CHECK(set->last_sequence() < 20);
    VersionEdit refused_again = flush_edit(*set, 25);  // the roll, refused for space too
    CHECK(set->log_and_apply(refused_again).is_no_space());
    CHECK(set->poisoned().is_ok());
    auto manifests = [&] {
      auto listing = fs.list_dir("/vs");
      REQUIRE(listing);
      return std::count_if(listing->begin(), listing->end(),
                           [](const std::string& n) { return parse_manifest_number(n).has_value(); });
    };
    CHECK(manifests() == 1);  // a refused roll leaves no file behind

    fs.set_space_limit(std::nullopt);
    VersionEdit later = flush_edit(*set, 30);
    REQUIRE(set->log_and_apply(later));
    CHECK(set->manifest_file_number() > manifest);  // rolled, not appended to the old one
    CHECK(set->current()->num_files(0) == 2);
    VersionEdit after = flush_edit(*set, 40);
    REQUIRE(set->log_and_apply(after));  // appends to the fresh one
    const auto expected = snapshot(*set);
    set.reset();

    auto reopened = VersionSet::open_or_create(fs, "/vs", no_file_check());
    REQUIRE(reopened);
    check_same(**reopened, expected);
    CHECK((*reopened)->current()->num_files(0) == 3);
  });
}

TEST_CASE("a roll that fails after CURRENT was replaced poisons the set, whatever the cause") {
  cascade::test_support::FaultFileSystem fs;
  run_in_fiber([&] {
    REQUIRE(fs.make_dir("/vs"));
    VersionSetOptions options = no_file_check();
    options.max_manifest_bytes = 1;  // every edit rolls
    auto opened = VersionSet::open_or_create(fs, "/vs", options);
    REQUIRE(opened);
    auto set = std::move(*opened);
    fs.fail_next_dir_sync_after_rename(ENOSPC);
    VersionEdit edit = flush_edit(*set, 10);
    Status s = set->log_and_apply(edit);
    CHECK(s.is_no_space());
    // CURRENT may name the new manifest, which holds the edit: its files must stay.
    CHECK_FALSE(set->poisoned().is_ok());
  });
}

TEST_CASE("obsolete files are the unreferenced numbered files older than the open") {
  TempDir dir;
  run_in_fiber([&] {
    auto set = open(dir.path());
    VersionEdit e;
    e.add_table(0, table(set->new_file_number(), "a", "b"));  // 2 (the manifest took 1)
    e.add_table(0, table(set->new_file_number(), "c", "d"));  // 3
    REQUIRE(set->log_and_apply(e));
  });
  for (const char* name : {"000002.sst", "000003.sst", "000004.sst", "000005.vlog", "LOCK",
                           "notes.txt"}) {
    spill(dir.file(name), "x");
  }
  run_in_fiber([&] {
    auto set = open(dir.path());
    // The leftovers 4 and 5 were never named by an edit; numbering continues above them.
    CHECK(set->next_file_number() > 6);
    VersionEdit drop;
    drop.remove_table(0, 3);
    std::shared_ptr<const Version> reader = set->current();  // an iterator still reading 3
    REQUIRE(set->log_and_apply(drop));
    std::uint64_t fresh = set->new_file_number();
    spill(dir.file(numbered_file_name(fresh, "sst")), "being written");
    spill(dir.file("CURRENT.tmp"), "left by a crash");  // (open's own roll replaced one)

    auto listing = real_file_system().list_dir(dir.path());
    REQUIRE(listing);
    auto obsolete = set->obsolete_files(*listing);
    std::sort(obsolete.begin(), obsolete.end());
    CHECK(obsolete == std::vector<std::string>{"000004.sst", "000005.vlog", "CURRENT.tmp",
                                               manifest_file_name(1)});
    CHECK(set->live_files() == std::set<std::uint64_t>{2, 3});

    reader.reset();
    CHECK(set->live_files() == std::set<std::uint64_t>{2});
    obsolete = set->obsolete_files(*listing);
    CHECK(std::find(obsolete.begin(), obsolete.end(), "000003.sst") != obsolete.end());
    CHECK(std::find(obsolete.begin(), obsolete.end(), numbered_file_name(fresh, "sst")) ==
          obsolete.end());
  });
}
