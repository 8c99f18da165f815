#include "engine/table/table_reader.h"

#include <doctest/doctest.h>

#include <random>

#include "engine/cache/block_cache.h"
#include "engine/cached_block_reader.h"
#include "engine/format/checksum.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/table/table_file_test_util.h"
#include "tests/unit/engine/table/table_model_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;

namespace {

constexpr std::uint64_t kFileNumber = 77;

TableBuilderOptions default_options() {
  TableBuilderOptions o;
  o.file_number = kFileNumber;
  return o;
}

std::string seek_key(std::string_view user_key, SequenceNumber seq = kMaxSequenceNumber) {
  return internal_key(user_key, seq, kValueTypeForSeek);
}

// Every block handle of the index, in order.
std::vector<BlockHandle> data_handles(TableReader& reader) {
  std::vector<BlockHandle> handles;
  auto it = reader.index_iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    std::string_view v = it->value();
    auto h = decode_block_handle(v);
    REQUIRE(h);
    handles.push_back(*h);
  }
  REQUIRE(it->status());
  return handles;
}

}  // namespace

TEST_CASE("a table returns every version of 100k random entries and nothing for absent keys") {
  std::mt19937_64 rng(test_seed("table round trip"));
  TableModel m = random_table_model(rng, 100000, 20000);
  TempDir dir;
  run_io([&] {
    TableProperties built = build_table(dir.file("t.sst"), m.entries, default_options());
    auto t = open_table(dir.file("t.sst"), kFileNumber);
    REQUIRE_MESSAGE(t, t.status().to_string());
    TableReader& r = *t->reader;
    CHECK(r.properties() == built);

    for (const auto& [k, v] : m.entries) {
      // The exact version, and the newest version visible at its sequence.
      ParsedInternalKey p;
      REQUIRE(parse_internal_key(k, p));
      auto got = r.get(seek_key(p.user_key, p.sequence), key_hash(p.user_key));
      REQUIRE_MESSAGE(got, got.status().to_string());
      REQUIRE(got->has_value());
      CHECK((*got)->sequence == p.sequence);
      CHECK((*got)->type == p.type);
      CHECK((*got)->value == v);
    }
    CHECK(r.stats().filter_useful == 0);  // no false negatives

    std::uint64_t reads_before = r.read_stats()->reads;
    for (const std::string& absent : m.absent) {
      auto got = r.get(seek_key(absent), key_hash(absent));
      REQUIRE(got);
      CHECK(!got->has_value());
    }
    double reads_per_absent =
        static_cast<double>(r.read_stats()->reads - reads_before) / m.absent.size();
    MESSAGE("reads per absent get: " << reads_per_absent << ", filter useful "
                                     << r.stats().filter_useful << " of " << m.absent.size());
    CHECK(r.stats().filter_useful > m.absent.size() * 97 / 100);  // 10 bits/key: ~1% FP
    CHECK(reads_per_absent < 0.1);
  });
}

TEST_CASE("a table iterator walks forward, backward and seeks like the sorted entries") {
  std::mt19937_64 rng(test_seed("table iterator"));
  TableModel m = random_table_model(rng, 30000, 2000);
  TempDir dir;
  run_io([&] {
    build_table(dir.file("t.sst"), m.entries, default_options());
    auto t = open_table(dir.file("t.sst"), kFileNumber);
    REQUIRE(t);
    auto it = t->reader->iterator();
    std::size_t i = 0;
    for (it->seek_to_first(); it->valid(); it->next(), ++i) {
      REQUIRE(i < m.entries.size());
      REQUIRE(it->key() == m.entries[i].first);
      REQUIRE(it->value() == m.entries[i].second);
    }
    CHECK(it->status());
    CHECK(i == m.entries.size());

    i = m.entries.size();
    for (it->seek_to_last(); it->valid(); it->prev()) {
      REQUIRE(i > 0);
      --i;
      REQUIRE(it->key() == m.entries[i].first);
    }
    CHECK(it->status());
    CHECK(i == 0);

    InternalKeyLess less;
    for (int n = 0; n < 3000; ++n) {
      std::string target = n % 2 == 0 ? seek_key(m.absent[n % m.absent.size()])
                                       : m.entries[rng() % m.entries.size()].first;
      auto expect = std::lower_bound(m.entries.begin(), m.entries.end(), target,
                                     [&](const auto& e, const std::string& t) { return less(e.first, t); });
      it->seek(target);
      if (expect == m.entries.end()) {
        CHECK(!it->valid());
        continue;
      }
      REQUIRE(it->valid());
      CHECK(it->key() == expect->first);
      if (expect != m.entries.begin()) {  // and one step back
        it->prev();
        REQUIRE(it->valid());
        CHECK(it->key() == std::prev(expect)->first);
      }
    }
  });
}

TEST_CASE("a forward table scan reads its data blocks in windows, a seek reads one block") {
  std::mt19937_64 rng(test_seed("table readahead"));
  TableModel m = random_table_model(rng, 30000, 100);
  TempDir dir;
  run_io([&] {
    build_table(dir.file("t.sst"), m.entries, default_options());
    auto t = open_table(dir.file("t.sst"), kFileNumber);
    REQUIRE(t);
    TableReader& r = *t->reader;
    const std::size_t blocks = data_handles(r).size();
    REQUIRE(blocks > 100);

    std::uint64_t reads = r.read_stats()->reads;
    auto it = r.iterator();
    std::size_t i = 0;
    for (it->seek_to_first(); it->valid(); it->next(), ++i) {
      REQUIRE(it->key() == m.entries[i].first);
      REQUIRE(it->value() == m.entries[i].second);
    }
    REQUIRE(it->status());
    CHECK(i == m.entries.size());
    std::uint64_t scan_reads = r.read_stats()->reads - reads;
    MESSAGE(blocks << " data blocks scanned in " << scan_reads << " reads");
    CHECK(scan_reads < blocks / 4);  // index partitions one read each, data in windows

    // A seek on a new iterator: its index partition and its one data block, no more.
    auto handle_at = [](InternalIterator& index, const std::string& target) {
      index.seek(target);
      REQUIRE(index.valid());
      std::string_view v = index.value();
      auto h = decode_block_handle(v);
      REQUIRE(h);
      return *h;
    };
    for (int n = 0; n < 20; ++n) {
      const std::string& target = m.entries[rng() % m.entries.size()].first;
      std::uint64_t expect = padded_size(handle_at(*r.top_index_iterator(), target).stored_size) +
                             padded_size(handle_at(*r.index_iterator(), target).stored_size);
      auto seeker = r.iterator();
      reads = r.read_stats()->reads;
      std::uint64_t bytes = r.read_stats()->bytes;
      seeker->seek(target);
      REQUIRE(seeker->valid());
      CHECK(seeker->key() == target);
      CHECK(r.read_stats()->reads - reads == 2);
      CHECK(r.read_stats()->bytes - bytes == expect);
    }
  });
}

TEST_CASE("a table's properties describe its contents") {
  Entries e;
  for (int i = 0; i < 5000; ++i) {
    std::string uk = "key" + std::to_string(10000 + i);
    e.emplace_back(internal_key(uk, 900 + i, i % 7 == 0 ? ValueType::kDeletion : ValueType::kValue),
                   i % 7 == 0 ? "" : "value-" + std::to_string(i));
  }
  TempDir dir;
  run_io([&] {
    TableBuilderOptions o = default_options();
    o.creation_time = 1700000000;
    TableProperties built = build_table(dir.file("t.sst"), e, o);
    auto t = open_table(dir.file("t.sst"), kFileNumber);
    REQUIRE(t);
    const TableProperties& p = t->reader->properties();
    CHECK(p == built);
    CHECK(p.num_entries == 5000);
    CHECK(p.num_deletions == 715);
    CHECK(p.smallest_key == e.front().first);
    CHECK(p.largest_key == e.back().first);
    CHECK(p.smallest_sequence == 900);
    CHECK(p.largest_sequence == 5899);
    CHECK(p.file_number == kFileNumber);
    CHECK(p.format_version == kTableFormatVersion);
    CHECK(p.creation_time == 1700000000);
    CHECK(p.compression == static_cast<std::uint64_t>(CompressionType::kZstd));
    CHECK(p.file_size == *t->file->size());
    CHECK(p.data_size == p.num_data_blocks * kPageSize);
    CHECK(p.index_size == (p.num_index_partitions + 1) * kPageSize);
    // 5000 keys at 10 bits: 98 lines of 64 bytes, plus the trailers: two pages.
    CHECK(p.filter_size == padded_size(98 * 64 + kBloomTrailerSize + kStoredBlockTrailerSize));
    CHECK(p.file_size == p.data_size + p.index_size + p.filter_size + 2 * kPageSize);
    CHECK(t->reader->footer().filter.offset == p.data_size + p.index_size);
  });
}

TEST_CASE("every block of a table starts on a page and nearly every data block is one page") {
  std::mt19937_64 rng(test_seed("table alignment"));
  TableModel m = random_table_model(rng, 30000, 0);
  TempDir dir;
  run_io([&] {
    build_table(dir.file("t.sst"), m.entries, default_options());
    auto t = open_table(dir.file("t.sst"), kFileNumber);
    REQUIRE(t);
    std::uint64_t expected_offset = 0, one_page = 0, large = 0;
    std::vector<BlockHandle> handles = data_handles(*t->reader);
    for (const BlockHandle& h : handles) {
      CHECK(h.offset % kPageSize == 0);
      CHECK(h.offset == expected_offset);  // blocks are back to back, padded to pages
      expected_offset = h.padded_end();
      if (pages_for(h.stored_size) == 1) one_page++;
      if (h.stored_size > kMaxBlockSize) large++;
    }
    CHECK(expected_offset == t->reader->properties().data_size);
    MESSAGE(handles.size() << " data blocks, " << one_page << " of one page, " << large
                           << " over 32 KiB");
    // Only blocks holding one large value span several pages.
    CHECK(one_page + 2 * large + 20 >= handles.size());
    auto top = t->reader->top_index_iterator();
    std::uint64_t partitions = 0;
    for (top->seek_to_first(); top->valid(); top->next(), ++partitions) {
      std::string_view v = top->value();
      auto h = decode_block_handle(v);
      REQUIRE(h);
      CHECK(h->offset % kPageSize == 0);
      CHECK(pages_for(h->stored_size) == 1);
    }
    CHECK(partitions == t->reader->properties().num_index_partitions);
    CHECK(partitions > 1);
    CHECK(t->reader->footer().top_index.offset % kPageSize == 0);
    CHECK(t->reader->footer().filter.offset % kPageSize == 0);
    CHECK(t->reader->footer().properties.offset % kPageSize == 0);
  });
}

TEST_CASE("prefix filters let a scan skip a table without the prefix") {
  PrefixExtractor by_colon{"up-to-colon", [](std::string_view k) -> std::optional<std::string_view> {
                             auto pos = k.find(':');
                             if (pos == std::string_view::npos) return std::nullopt;
                             return k.substr(0, pos + 1);
                           }};
  Entries e;
  for (int i = 0; i < 2000; ++i) {
    e.emplace_back(internal_key("coll" + std::to_string(1000 + i / 100) + ":m" +
                                    std::to_string(1000 + i % 100), 5),
                   "v");
  }
  TempDir dir;
  run_io([&] {
    TableBuilderOptions o = default_options();
    o.filter.prefix_extractor = &by_colon;
    build_table(dir.file("t.sst"), e, o);
    TableReaderOptions ro;
    ro.prefix_extractor = &by_colon;
    auto t = open_table(dir.file("t.sst"), kFileNumber, ro);
    REQUIRE(t);
    CHECK(t->reader->may_contain_prefix("coll1005:"));
    int skipped = 0;
    for (int i = 0; i < 1000; ++i) {
      if (!t->reader->may_contain_prefix("other" + std::to_string(i) + ":")) skipped++;
    }
    CHECK(skipped > 970);
  });
}

TEST_CASE("an empty table opens and holds nothing") {
  TempDir dir;
  run_io([&] {
    TableProperties p = build_table(dir.file("t.sst"), {}, default_options());
    CHECK(p.num_entries == 0);
    auto t = open_table(dir.file("t.sst"), kFileNumber);
    REQUIRE_MESSAGE(t, t.status().to_string());
    auto got = t->reader->get(seek_key("a"), key_hash("a"));
    REQUIRE(got);
    CHECK(!got->has_value());
    auto it = t->reader->iterator();
    it->seek_to_first();
    CHECK(!it->valid());
    it->seek_to_last();
    CHECK(!it->valid());
    CHECK(it->status());
  });
}

TEST_CASE("blocks read through the cache keep the layout they were checked with") {
  TempDir dir;
  run_io([&] {
    std::mt19937_64 rng(cascade::testing::test_seed("cached block layouts"));
    TableModel m = random_table_model(rng, 5000, 0);
    build_table(dir.file("t.sst"), m.entries, default_options());
    auto file = open_direct(dir.file("t.sst"), false);
    auto size = file->size();
    REQUIRE(size);
    BlockCache cache;
    CachedBlockReader blocks(cache, *file, kFileNumber);
    TableReaderOptions options;
    options.block_reader = &blocks;
    auto reader = TableReader::open(*file, kFileNumber, *size, options);
    REQUIRE_MESSAGE(reader, reader.status().to_string());

    // Twice: the first pass reads and caches the blocks, the second reopens them from
    // their cached layout, and both find every entry.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& [k, v] : m.entries) {
        ParsedInternalKey p;
        REQUIRE(parse_internal_key(k, p));
        auto got = (*reader)->get(seek_key(p.user_key, p.sequence), key_hash(p.user_key));
        REQUIRE_MESSAGE(got, got.status().to_string());
        REQUIRE(got->has_value());
        CHECK((*got)->sequence == p.sequence);
        CHECK((*got)->value == v);
      }
    }
    const std::uint64_t reads = blocks.stats().reads;
    std::size_t checked = 0;
    for (const BlockHandle& h : data_handles(**reader)) {
      BlockCache::Handle pin = cache.lookup(BlockCacheKey{kFileNumber, h.offset});
      REQUIRE(pin);
      REQUIRE(pin.block_layout() != nullptr);
      auto block = Block::open(pin.contents());
      REQUIRE(block);
      CHECK(pin.block_layout()->restarts_offset == block->layout().restarts_offset);
      CHECK(pin.block_layout()->num_restarts == block->layout().num_restarts);
      ++checked;
    }
    CHECK(checked > 10);
    CHECK(blocks.stats().reads == reads);  // the walk over the index read nothing more
  });
}
