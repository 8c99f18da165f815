// DBIterator over the engine's real mix of sources: memtables and tables (TableReader over
// the in-memory FaultFileSystem), with the prefix-filter seam the engine will use: for a
// prefix scan, tables whose filter rules the prefix out are left out of the merge.
#include "engine/iterator/db_iterator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/iterator/memtable_iterator.h"
#include "engine/iterator/merging_iterator.h"
#include "engine/memtable/memtable.h"
#include "engine/table/table_builder.h"
#include "engine/table/table_reader.h"
#include "tests/support/fault_file_system.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/iterator/db_iterator_model.h"
#include "tests/unit/engine/iterator/iterator_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::iterator_test;
using cascade::test_support::FaultFileSystem;

namespace {

// Prefixes are the first byte of a key: what the tables' prefix filters hold.
const PrefixExtractor kFirstByte{"first-byte", [](std::string_view key) -> std::optional<std::string_view> {
                                   if (key.empty()) return std::nullopt;
                                   return key.substr(0, 1);
                                 }};

struct Table {
  std::unique_ptr<runtime::FileHandle> file;
  std::unique_ptr<TableReader> reader;
};

Table build_table(FaultFileSystem& fs, const std::string& path, std::uint64_t number,
                  std::vector<const Version*> versions) {
  std::vector<std::pair<std::string, const Version*>> entries;
  for (const Version* v : versions) entries.emplace_back(ikey(v->user_key, v->seq, v->type), v);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return compare_internal_keys(a.first, b.first) < 0;
  });
  runtime::OpenOptions create = runtime::OpenOptions::read_write_create();
  create.direct = true;
  create.truncate = true;
  auto out = fs.open(path, create);
  REQUIRE(out);
  TableBuilderOptions options;
  options.file_number = number;
  options.filter.prefix_extractor = &kFirstByte;
  TableBuilder builder(**out, options);
  for (const auto& [key, v] : entries) REQUIRE(builder.add(key, v->value));
  auto props = builder.finish();
  REQUIRE_MESSAGE(props, props.status().to_string());
  REQUIRE((*out)->close());

  runtime::OpenOptions read = runtime::OpenOptions::read_only();
  read.direct = true;
  Table t;
  auto in = fs.open(path, read);
  REQUIRE(in);
  t.file = std::move(*in);
  auto size = t.file->size();
  REQUIRE(size);
  TableReaderOptions reader_options;
  reader_options.prefix_extractor = &kFirstByte;
  auto reader = TableReader::open(*t.file, number, *size, reader_options);
  REQUIRE_MESSAGE(reader, reader.status().to_string());
  t.reader = std::move(*reader);
  return t;
}

// The table an old version goes to: by its key's first byte, as a leveled LSM's key
// ranges would split them (so a one-byte prefix lives in one table).
int table_for(const Version& v) {
  switch (v.user_key[0]) {
    case 'a': case '\0': return 0;
    case 'b': case 'c': return 1;
    default: return 2;
  }
}

}  // namespace

TEST_CASE("db iterator over memtables and tables matches the model, prefix-filtered tables left out") {
  std::mt19937_64 rng(cascade::testing::test_seed("db iterator over tables"));
  FaultFileSystem fs;
  REQUIRE(fs.make_dir("/db"));
  int tables_left_out = 0;
  std::uint64_t file_number = 1;
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    const int version_count = 3000;
    auto versions = random_versions(rng, 20 + static_cast<int>(rng() % 100), version_count);
    for (auto& v : versions) {
      if (v.type != ValueType::kDeletion) v.value.resize(120, 'x');  // several blocks per table
    }
    Model model;
    for (const auto& v : versions) model.emplace(std::make_pair(v.user_key, v.seq), v);

    // The oldest two thirds are in tables, the rest in two memtables.
    std::vector<std::vector<const Version*>> table_parts(3);
    std::vector<std::unique_ptr<MemTable>> memtables;
    memtables.push_back(std::make_unique<MemTable>());
    memtables.push_back(std::make_unique<MemTable>());
    for (const auto& v : versions) {
      if (v.seq <= static_cast<SequenceNumber>(version_count * 2 / 3)) {
        table_parts[table_for(v)].push_back(&v);
      } else {
        memtables[rng() % 2]->add(v.seq, v.type, v.user_key, v.value);
      }
    }
    std::vector<Table> tables;
    for (auto& part : table_parts) {
      if (part.empty()) continue;
      tables.push_back(build_table(fs, "/db/" + std::to_string(file_number) + ".sst",
                                   file_number, part));
      ++file_number;
    }

    for (int view = 0; view < 8; ++view) {
      SequenceNumber snapshot = rng() % (version_count + 2);
      Range range = random_range(rng);
      if (rng() % 2 == 0) range.prefix = random_user_key(rng, 1);
      auto expected = visible_entries(model, snapshot, range);

      std::vector<std::unique_ptr<InternalIterator>> children;
      for (auto& mem : memtables) children.push_back(std::make_unique<MemTableIterator>(*mem));
      for (auto& t : tables) {
        // The seam: the engine asks each table's prefix filter before adding it.
        bool filterable = range.prefix && range.prefix->size() == 1;
        if (filterable && !t.reader->may_contain_prefix(*range.prefix)) {
          ++tables_left_out;
          continue;
        }
        children.push_back(t.reader->iterator());
      }
      DBIterator it(std::make_unique<MergingIterator>(std::move(children)),
                    range.options(snapshot));
      long pos = -1;
      for (int op = 0; op < 300; ++op) {
        random_op(rng, it, expected, pos);
        require_same(it, expected, pos);
      }
    }
  }
  CHECK(tables_left_out > 0);
}

TEST_CASE("db iterator reports a corrupt table block as corruption in both directions") {
  std::mt19937_64 rng(cascade::testing::test_seed("db iterator corrupt table"));
  FaultFileSystem fs;
  REQUIRE(fs.make_dir("/db"));
  auto versions = random_versions(rng, 50, 2000);
  for (auto& v : versions) v.value.resize(120, 'x');
  std::vector<const Version*> all;
  for (const auto& v : versions) all.push_back(&v);
  Table t = build_table(fs, "/db/9.sst", 9, all);
  REQUIRE(fs.inject_bit_flip("/db/9.sst", 100, 3));  // inside the first data block

  MemTable mem;
  mem.add(5000, ValueType::kValue, "zzz", "newest");
  auto make = [&] {
    std::vector<std::unique_ptr<InternalIterator>> children;
    children.push_back(std::make_unique<MemTableIterator>(mem));
    children.push_back(t.reader->iterator());
    return std::make_unique<DBIterator>(std::make_unique<MergingIterator>(std::move(children)),
                                        DBIteratorOptions{});
  };
  auto forward = make();
  for (forward->seek_to_first(); forward->valid(); forward->next()) {
  }
  CHECK(forward->status().is_corruption());

  auto backward = make();
  int seen = 0;
  for (backward->seek_to_last(); backward->valid(); backward->prev()) ++seen;
  CHECK(seen > 0);  // the newest keys come before the broken first block
  CHECK(backward->status().is_corruption());
}
