// Damaged tables: every bit flip, truncation or foreign footer is reported as Corruption
// (or NotSupported for a newer version), never returned as data.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "engine/format/checksum.h"
#include "engine/table/table_reader.h"
#include "tests/unit/engine/table/table_file_test_util.h"
#include "tests/unit/engine/table/table_model_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;

namespace {

constexpr std::uint64_t kFileNumber = 5;

std::string seek_key(std::string_view user_key, SequenceNumber seq = kMaxSequenceNumber) {
  return internal_key(user_key, seq, kValueTypeForSeek);
}

// Barely compressible values, so that 20000 entries span several index partitions.
Entries small_entries(int n) {
  std::mt19937_64 rng(n);
  Entries e;
  for (int i = 0; i < n; ++i) {
    e.emplace_back(internal_key("key:" + std::to_string(100000 + i), 10), random_bytes(rng, 100));
  }
  return e;
}

struct Layout {
  Footer footer;
  std::vector<BlockHandle> data;
  std::vector<BlockHandle> partitions;
  std::uint64_t file_size = 0;
};

// Builds the pristine table at `path` and reads where everything went.
Layout build(const std::string& path, const Entries& e) {
  TableBuilderOptions o;
  o.file_number = kFileNumber;
  build_table(path, e, o);
  auto t = open_table(path, kFileNumber);
  REQUIRE(t);
  Layout l;
  l.footer = t->reader->footer();
  l.file_size = t->reader->properties().file_size;
  auto it = t->reader->index_iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    std::string_view v = it->value();
    l.data.push_back(*decode_block_handle(v));
  }
  auto top = t->reader->top_index_iterator();
  for (top->seek_to_first(); top->valid(); top->next()) {
    std::string_view v = top->value();
    l.partitions.push_back(*decode_block_handle(v));
  }
  return l;
}

void check_open_fails(const std::string& path, StatusCode code, std::uint64_t file_number = kFileNumber) {
  auto t = open_table(path, file_number);
  REQUIRE(!t);
  CHECK_MESSAGE(t.error().code() == code, t.error().to_string());
}

// Every get answers right or says Corruption; a full scan returns a correct prefix of the
// entries and then stops with Corruption. Gets every `stride`-th entry (to keep the test
// quick with O_DIRECT reads); returns how many of them reported corruption.
int check_no_wrong_data(TableReader& r, const Entries& e, bool expect_scan_error,
                        std::size_t stride) {
  int corrupt = 0;
  for (std::size_t n = 0; n < e.size(); n += stride) {
    const auto& [k, v] = e[n];
    std::string_view uk = extract_user_key(k);
    auto got = r.get(seek_key(uk), key_hash(uk));
    if (!got) {
      CHECK(got.error().is_corruption());
      corrupt++;
      continue;
    }
    REQUIRE(got->has_value());
    ParsedInternalKey p;
    REQUIRE(parse_internal_key(k, p));
    CHECK((*got)->sequence == p.sequence);
    CHECK((*got)->type == p.type);
    CHECK((*got)->value == v);
  }
  auto it = r.iterator();
  std::size_t i = 0;
  for (it->seek_to_first(); it->valid(); it->next(), ++i) {
    REQUIRE(i < e.size());
    REQUIRE(it->key() == e[i].first);
    REQUIRE(it->value() == e[i].second);
  }
  if (expect_scan_error) {
    CHECK(it->status().is_corruption());
    CHECK(i < e.size());
  }
  return corrupt;
}

}  // namespace

TEST_CASE("a flipped bit in a data block or an index partition is Corruption from get and scans") {
  Entries e = small_entries(20000);
  TempDir dir;
  run_io([&] {
    std::string pristine = dir.file("pristine.sst");
    Layout l = build(pristine, e);
    REQUIRE(l.partitions.size() > 2);
    struct Case {
      const char* what;
      BlockHandle block;
    } cases[] = {{"first data block", l.data.front()},
                 {"middle data block", l.data[l.data.size() / 2]},
                 {"first index partition", l.partitions.front()},
                 {"last index partition", l.partitions.back()}};
    for (const Case& c : cases) {
      CAPTURE(c.what);
      for (std::uint64_t at : {c.block.offset, c.block.offset + c.block.stored_size / 2,
                               c.block.offset + c.block.stored_size - 1}) {
        std::string path = dir.file("flipped.sst");
        std::filesystem::copy_file(pristine, path, std::filesystem::copy_options::overwrite_existing);
        flip_bit(path, at, 3);
        auto t = open_table(path, kFileNumber);
        REQUIRE(t);  // data blocks and partitions are read lazily
        CHECK(check_no_wrong_data(*t->reader, e, true, 7) > 0);
      }
    }
  });
}

TEST_CASE("random bit flips anywhere in a table never come back as data") {
  std::mt19937_64 rng(test_seed("table random flips"));
  Entries e = small_entries(5000);
  TempDir dir;
  run_io([&] {
    std::string pristine = dir.file("pristine.sst");
    Layout l = build(pristine, e);
    for (int n = 0; n < 30; ++n) {
      std::string path = dir.file("flipped.sst");
      std::filesystem::copy_file(pristine, path, std::filesystem::copy_options::overwrite_existing);
      std::uint64_t at = rng() % l.file_size;
      CAPTURE(at);
      flip_bit(path, at, static_cast<int>(rng() % 8));
      auto t = open_table(path, kFileNumber);
      if (!t) {
        CHECK_MESSAGE(t.error().is_corruption(), t.error().to_string());
        continue;
      }
      check_no_wrong_data(*t->reader, e, false, 3);
    }
  });
}

TEST_CASE("a damaged filter, properties, top index or footer fails open with Corruption") {
  Entries e = small_entries(3000);
  TempDir dir;
  run_io([&] {
    std::string pristine = dir.file("pristine.sst");
    Layout l = build(pristine, e);
    std::uint64_t footer = l.file_size - kFooterSize;
    std::vector<std::uint64_t> spots = {
        l.footer.filter.offset + 10,       l.footer.filter.offset + l.footer.filter.stored_size - 2,
        l.footer.properties.offset + 3,    l.footer.top_index.offset + 1,
        footer + 0 /* magic */,            footer + 8 /* version */,
        footer + 9,                        footer + 13 /* top index handle */,
        footer + 30,                       footer + 50,
        footer + 2000 /* zero padding */,  footer + kFooterSize - 1 /* checksum */};
    for (std::uint64_t at : spots) {
      CAPTURE(at);
      std::string path = dir.file("flipped.sst");
      std::filesystem::copy_file(pristine, path, std::filesystem::copy_options::overwrite_existing);
      flip_bit(path, at, 1);
      check_open_fails(path, StatusCode::kCorruption);
    }
  });
}

TEST_CASE("a table refuses a wrong magic, a newer version, another file number and truncation") {
  Entries e = small_entries(3000);
  TempDir dir;
  run_io([&] {
    std::string path = dir.file("t.sst");
    Layout l = build(path, e);
    std::uint64_t footer_offset = l.file_size - kFooterSize;

    // Seeded checksums: the same bytes under another file number do not verify.
    check_open_fails(path, StatusCode::kCorruption, kFileNumber + 1);

    // A newer format version with a valid checksum: NotSupported, naming the version.
    std::string page(kFooterSize, '\0');
    Footer newer = l.footer;
    newer.format_version = kTableFormatVersion + 1;
    encode_footer(newer, kFileNumber, footer_offset, page.data());
    std::string newer_path = dir.file("newer.sst");
    std::filesystem::copy_file(path, newer_path);
    {
      runtime::OpenOptions o;
      o.access = runtime::OpenOptions::Access::kReadWrite;
      auto f = runtime::real_file_system().open(newer_path, o);
      REQUIRE(f);
      REQUIRE((*f)->write_at(footer_offset, std::as_bytes(std::span(page))));
      REQUIRE((*f)->close());
    }
    auto t = open_table(newer_path, kFileNumber);
    REQUIRE(!t);
    CHECK(t.error().code() == StatusCode::kNotSupported);
    CHECK(t.error().message().find("version " + std::to_string(kTableFormatVersion + 1)) !=
          std::string::npos);

    // Version 1 (before value heads) is still read: the same table with its footer saying 1.
    Footer first = l.footer;
    first.format_version = 1;
    encode_footer(first, kFileNumber, footer_offset, page.data());
    std::string first_path = dir.file("first.sst");
    std::filesystem::copy_file(path, first_path);
    {
      runtime::OpenOptions o;
      o.access = runtime::OpenOptions::Access::kReadWrite;
      auto f = runtime::real_file_system().open(first_path, o);
      REQUIRE(f);
      REQUIRE((*f)->write_at(footer_offset, std::as_bytes(std::span(page))));
      REQUIRE((*f)->close());
    }
    auto v1 = open_table(first_path, kFileNumber);
    REQUIRE(v1);
    CHECK(v1->reader->footer().format_version == 1);
    std::size_t entries = 0;
    auto all = v1->reader->iterator();
    for (all->seek_to_first(); all->valid(); all->next()) ++entries;
    CHECK(all->status());
    CHECK(entries == e.size());

    // Not a table: a wrong magic says so.
    std::string magic_path = dir.file("magic.sst");
    std::filesystem::copy_file(path, magic_path);
    flip_bit(magic_path, footer_offset + 2, 0);
    auto m = open_table(magic_path, kFileNumber);
    REQUIRE(!m);
    CHECK(m.error().is_corruption());
    CHECK(m.error().message().find("magic") != std::string::npos);

    // Truncated by a page (the footer is gone) or by part of one.
    for (std::uint64_t cut : {std::uint64_t{kPageSize}, std::uint64_t{100}, l.file_size - 1,
                              l.file_size}) {
      CAPTURE(cut);
      std::string cut_path = dir.file("cut.sst");
      std::filesystem::copy_file(path, cut_path, std::filesystem::copy_options::overwrite_existing);
      std::filesystem::resize_file(cut_path, l.file_size - cut);
      check_open_fails(cut_path, StatusCode::kCorruption);
    }
  });
}
