// bench-engine-block: measures the block, compression/page and filter formats, and prints
// the figures engine/FORMAT.md quotes. Not a test: it asserts nothing about time.
//
//   bench-engine-block [seed]
//
// Workload ("realistic"): keys user:NNNNNNNN in order (gaps of 1-3), values of 64 B to
// 1 KiB, each value one of three kinds picked at random: JSON-like text, random bytes
// (already-compressed media, ciphertext), or half of each.
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine/format/checksum.h"
#include "engine/format/internal_key.h"
#include "engine/table/block.h"
#include "engine/table/block_builder.h"
#include "engine/table/block_compression.h"
#include "engine/table/bloom_filter.h"

using namespace cascade::engine;

namespace {

using Clock = std::chrono::steady_clock;
volatile std::uint64_t g_sink = 0;

double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

enum class ValueKind { kText, kRandom, kHalf, kMixed };
const char* kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kText: return "text";
    case ValueKind::kRandom: return "random";
    case ValueKind::kHalf: return "half text/half random";
    case ValueKind::kMixed: return "mixed (1/3 each)";
  }
  return "?";
}

const char* const kWords[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "amber", "basil", "cedar", "dune",
    "ember", "fjord", "grove", "harbor", "island", "jasper", "karma", "lotus", "meadow", "nectar",
    "orchid", "prairie", "quartz", "raven", "saffron", "timber", "umber", "valley", "willow", "zephyr"};

std::string text_value(std::mt19937_64& rng, std::size_t n) {
  std::string s = "{\"id\":" + std::to_string(rng() % 100000000) + ",\"name\":\"";
  auto word = [&] { return std::string(kWords[rng() % std::size(kWords)]); };
  s += word() + " " + word() + "\",\"email\":\"" + word() + "@" + word() + ".com\",\"score\":" +
       std::to_string(rng() % 1000) + ",\"bio\":\"";
  while (s.size() < n) s += word() + (rng() % 7 == 0 ? ". " : " ");
  s.resize(n - 2);
  return s + "\"}";
}

std::string random_value(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string make_value(std::mt19937_64& rng, ValueKind kind) {
  std::size_t n = 64 + rng() % (1024 - 64 + 1);
  if (kind == ValueKind::kMixed) kind = static_cast<ValueKind>(rng() % 3);
  switch (kind) {
    case ValueKind::kText: return text_value(rng, n);
    case ValueKind::kRandom: return random_value(rng, n);
    default: return text_value(rng, n / 2 + 2) + random_value(rng, n - n / 2 - 2);
  }
}

struct Entry {
  std::string key;
  std::string value;
};

std::vector<Entry> make_entries(std::uint64_t seed, ValueKind kind, std::size_t count) {
  std::mt19937_64 rng(seed);
  std::vector<Entry> out;
  std::uint64_t id = 10000000;
  for (std::size_t i = 0; i < count; ++i) {
    id += 1 + rng() % 3;
    std::string key;
    append_internal_key(key, "user:" + std::to_string(id), 1000 + rng() % 1000, ValueType::kValue);
    out.push_back({std::move(key), make_value(rng, kind)});
  }
  return out;
}

// Collection members: keys h:user:NNNNNNNN:fNNN (20 fields per hash), values of 8-64 B.
std::vector<Entry> make_small_entries(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 rng(seed);
  std::vector<Entry> out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string key;
    append_internal_key(key, "h:user:" + std::to_string(10000000 + i / 20) + ":f" + std::to_string(100 + i % 20),
                        1000 + rng() % 1000, ValueType::kValue);
    std::string value = kWords[rng() % std::size(kWords)] + std::string(" ") + std::to_string(rng() % 100000);
    value.resize(8 + rng() % 57, '.');
    out.push_back({std::move(key), std::move(value)});
  }
  return out;
}

// ---- pages ------------------------------------------------------------------------------

struct PageStats {
  std::size_t blocks = 0, pages = 0, raw_bytes = 0, stored_bytes = 0, compressed_blocks = 0;
  std::size_t one_page = 0, two_pages = 0, more_pages = 0;
  std::size_t brief_rule_pages = 0;  // pages "keep zstd if it saves >= 12.5%" would use
  std::size_t compressions = 0;
  std::vector<std::size_t> stored_sizes;
  double compress_ns = 0;
};

PageStats lay_out(const std::vector<Entry>& entries, const CompressionOptions& options,
                  const PageFitTuning& tuning) {
  PageStats st;
  PageFitEstimator estimator(options, tuning);
  BlockCompressor compressor(options);
  BlockBuilder builder;
  std::string out;
  auto emit = [&] {
    out.clear();
    auto start = Clock::now();
    EmittedBlock b = emit_page_block(builder, compressor, estimator, 1, st.pages * kPageSize, out);
    st.compress_ns += ns_since(start);
    const StoredBlockInfo& info = b.info;
    std::size_t pages = pages_for(info.stored_size);
    ++st.blocks;
    st.compressions += b.compressions;
    st.pages += pages;
    st.raw_bytes += info.raw_size;
    st.stored_bytes += info.stored_size;
    st.compressed_blocks += info.type == CompressionType::kZstd;
    (pages == 1 ? st.one_page : pages == 2 ? st.two_pages : st.more_pages)++;
    st.stored_sizes.push_back(info.stored_size);
    bool brief_keeps = info.compressed_size > 0 && info.compressed_size * 8 <= info.raw_size * 7;
    std::size_t brief_stored = (brief_keeps ? info.compressed_size : info.raw_size) + kStoredBlockTrailerSize;
    st.brief_rule_pages += pages_for(brief_stored);
  };
  for (const Entry& e : entries) {
    while (!builder.empty() && builder.size_after(e.key, e.value) > estimator.raw_size_limit()) emit();
    if (!builder.add(e.key, e.value).is_ok()) std::abort();
  }
  while (!builder.empty()) emit();
  return st;
}

std::size_t percentile(std::vector<std::size_t> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

void print_page_stats(const char* label, const PageStats& st) {
  double util = static_cast<double>(st.stored_bytes) / (st.pages * kPageSize);
  std::printf("  %-34s blocks %6zu  pages/block %.3f  (1p %5.1f%% 2p %4.1f%% 3p+ %4.1f%%)  "
              "util %.3f  raw KiB/page %.2f  disk/raw %.3f  zstd %5.1f%%  stored p10/p50/p90 %zu/%zu/%zu"
              "  12.5%%-rule pages %+.2f%%  compressions/block %.2f, %.1f us/block\n",
              label, st.blocks, static_cast<double>(st.pages) / st.blocks, 100.0 * st.one_page / st.blocks,
              100.0 * st.two_pages / st.blocks, 100.0 * st.more_pages / st.blocks, util,
              static_cast<double>(st.raw_bytes) / st.pages / 1024.0,
              static_cast<double>(st.pages * kPageSize) / st.raw_bytes, 100.0 * st.compressed_blocks / st.blocks,
              percentile(st.stored_sizes, 0.1), percentile(st.stored_sizes, 0.5),
              percentile(st.stored_sizes, 0.9),
              100.0 * (static_cast<double>(st.brief_rule_pages) / st.pages - 1.0),
              static_cast<double>(st.compressions) / st.blocks, st.compress_ns / st.blocks / 1000);
}

// The rejected layout: blocks cut at a fixed uncompressed size, compressed, and packed back
// to back (no padding). Reports disk bytes and the pages one block read must touch.
// The rejected layout: blocks cut at a fixed uncompressed size, compressed, and packed back
// to back (no padding), zstd kept when it saves 12.5%. Reports disk bytes and the pages
// one block read must touch.
void packed_layout(const std::vector<Entry>& entries, std::size_t raw_target) {
  BlockBuilder builder;
  std::size_t offset = 0, blocks = 0, pages_touched = 0, raw_bytes = 0;
  std::string scratch;
  auto cut = [&] {
    std::string_view raw = builder.finish();
    raw_bytes += raw.size();
    scratch.resize(ZSTD_compressBound(raw.size()));
    std::size_t n = ZSTD_compress(scratch.data(), scratch.size(), raw.data(), raw.size(), 3);
    std::size_t stored = (n * 8 <= raw.size() * 7 ? n : raw.size()) + kStoredBlockTrailerSize;
    pages_touched += (offset % kPageSize + stored + kPageSize - 1) / kPageSize;
    offset += stored;
    ++blocks;
    builder.reset();
  };
  for (const Entry& e : entries) {
    if (!builder.empty() && builder.size_after(e.key, e.value) > raw_target) cut();
    if (!builder.add(e.key, e.value).is_ok()) std::abort();
  }
  if (!builder.empty()) cut();
  std::printf("  %-34s blocks %6zu  pages touched per block read %.3f  disk/raw %.3f\n",
              ("packed, " + std::to_string(raw_target) + " B raw blocks").c_str(), blocks,
              static_cast<double>(pages_touched) / blocks, static_cast<double>(offset) / raw_bytes);
}

void bench_pages(std::uint64_t seed) {
  std::printf("\n== page layout: 60000 entries per workload, zstd level 3 unless said\n");
  for (ValueKind kind : {ValueKind::kMixed, ValueKind::kText, ValueKind::kHalf, ValueKind::kRandom}) {
    std::vector<Entry> entries = make_entries(seed, kind, 60000);
    std::printf(" workload: %s values\n", kind_name(kind));
    CompressionOptions options;
    print_page_stats("default (target 4040, smoothing .25)", lay_out(entries, options, {}));
    if (kind == ValueKind::kRandom) continue;
    for (std::size_t target : {4091, 3994, 3900}) {
      PageFitTuning t;
      t.target_stored_size = target;
      print_page_stats(("target " + std::to_string(target)).c_str(), lay_out(entries, options, t));
    }
    for (double smoothing : {0.1, 0.5}) {
      PageFitTuning t;
      t.smoothing = smoothing;
      print_page_stats(("smoothing " + std::to_string(smoothing).substr(0, 4)).c_str(), lay_out(entries, options, t));
    }
    for (int level : {1, 6}) {
      CompressionOptions o;
      o.zstd_level = level;
      print_page_stats(("zstd level " + std::to_string(level)).c_str(), lay_out(entries, o, {}));
    }
    packed_layout(entries, 4096);
    packed_layout(entries, 16384);
  }
  // Mostly incompressible: where the planning threshold (min_saving) decides.
  {
    std::mt19937_64 rng(seed);
    std::vector<Entry> entries = make_entries(seed, ValueKind::kRandom, 60000);
    for (std::size_t i = 0; i < entries.size(); i += 5) entries[i].value = text_value(rng, entries[i].value.size());
    std::printf(" workload: random values, one in five text\n");
    for (double min_saving : {0.0, 0.125, 0.25}) {
      CompressionOptions o;
      o.min_saving = min_saving;
      print_page_stats(("min_saving " + std::to_string(min_saving).substr(0, 5)).c_str(), lay_out(entries, o, {}));
    }
  }
  // Non-stationary data: runs of 2000 entries alternate between text and random values.
  {
    std::mt19937_64 rng(seed);
    std::vector<Entry> entries = make_entries(seed, ValueKind::kText, 60000);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if ((i / 2000) % 2 == 1) entries[i].value = random_value(rng, entries[i].value.size());
    }
    std::printf(" workload: runs of 2000 text / 2000 random values\n");
    print_page_stats("default", lay_out(entries, {}, {}));
  }
}

// ---- blocks -----------------------------------------------------------------------------

// Builds blocks of about raw_size bytes from `entries`, then seeks to random existing keys
// in blocks holding `working_set` bytes in all (small: cache-warm; large: mostly misses).
void bench_block(const std::vector<Entry>& entries, int interval, std::size_t raw_size) {
  BlockBuilder builder({.restart_interval = interval});
  std::vector<std::string> blocks;
  std::vector<std::vector<std::size_t>> members;  // entry indexes per block
  auto start = Clock::now();
  std::size_t used = 0;
  while (used < entries.size()) {
    builder.reset();
    members.emplace_back();
    while (used < entries.size() &&
           (builder.empty() || builder.size_after(entries[used].key, entries[used].value) <= raw_size)) {
      if (!builder.add(entries[used].key, entries[used].value).is_ok()) std::abort();
      members.back().push_back(used++);
    }
    blocks.emplace_back(builder.finish());
  }
  double build_ns = ns_since(start) / entries.size();

  std::vector<Block> opened;
  std::size_t total_size = 0, restart_bytes = 0;
  for (const auto& b : blocks) {
    opened.push_back(std::move(*Block::open(BlockContents{b, nullptr})));
    total_size += b.size();
    restart_bytes += 2 * opened.back().num_restarts();
  }
  std::printf("  interval %2d, %5zu B blocks: %5.1f entries/block, restart array %4.2f%% of block, build %5.1f ns/entry, seek",
              interval, raw_size, static_cast<double>(entries.size()) / blocks.size(),
              100.0 * restart_bytes / total_size, build_ns);
  for (std::size_t working_set : {std::size_t{256} << 10, total_size}) {
    std::size_t nblocks = std::max<std::size_t>(1, std::min(blocks.size(), working_set / raw_size));
    std::mt19937_64 rng(interval);
    const int kSeeks = 300000;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> targets;  // (block, entry)
    for (int i = 0; i < kSeeks; ++i) {
      auto b = static_cast<std::uint32_t>(rng() % nblocks);
      targets.emplace_back(b, static_cast<std::uint32_t>(members[b][rng() % members[b].size()]));
    }
    start = Clock::now();
    for (const auto& [b, e] : targets) {
      BlockIterator it = opened[b].iterator(kInternalKeyComparator);
      it.seek(entries[e].key);
      g_sink = g_sink + it.value().size();
    }
    std::printf(" %6.1f ns (%zu KiB)", ns_since(start) / kSeeks, nblocks * raw_size >> 10);
  }
  start = Clock::now();
  std::size_t scanned = 0;
  for (const auto& b : opened) {
    BlockIterator it = b.iterator(kInternalKeyComparator);
    for (it.seek_to_first(); it.valid(); it.next()) {
      g_sink = g_sink + it.key().size();
      ++scanned;
    }
  }
  std::printf(", next %4.1f ns\n", ns_since(start) / scanned);
}

// Index-like workload: small values (block handles), so many entries per block.
void bench_small_entries(int interval) {
  BlockBuilder builder({.restart_interval = interval});
  std::vector<std::string> keys;
  for (int i = 0; i < 100000 && builder.fits("", ""); ++i) {
    std::string key;
    append_internal_key(key, "user:" + std::to_string(10000000 + 3 * i), 1000, ValueType::kValue);
    if (!builder.fits(key, "01234567")) break;
    if (!builder.add(key, "01234567").is_ok()) std::abort();
    keys.push_back(std::move(key));
  }
  std::string bytes(builder.finish());
  Block block = std::move(*Block::open(BlockContents{bytes, nullptr}));
  std::mt19937_64 rng(7);
  const int kSeeks = 400000;
  auto start = Clock::now();
  for (int i = 0; i < kSeeks; ++i) {
    BlockIterator it = block.iterator(kInternalKeyComparator);
    it.seek(keys[rng() % keys.size()]);
    g_sink = g_sink + it.value().size();
  }
  std::printf("  interval %2d, 32 KiB block of %zu small entries (%zu B): seek %6.1f ns\n", interval,
              keys.size(), bytes.size(), ns_since(start) / kSeeks);
}

// ---- decode -----------------------------------------------------------------------------

void bench_decode(std::uint64_t seed) {
  std::vector<Entry> entries = make_entries(seed, ValueKind::kText, 20000);
  BlockBuilder builder;
  BlockCompressor compressor({});
  PageFitEstimator estimator({});
  std::vector<std::string> stored;
  for (const Entry& e : entries) {
    if (!builder.empty() && builder.size_after(e.key, e.value) > estimator.raw_size_limit()) {
      std::string out;
      estimator.observe(compressor.compress(builder.finish(), 1, 0, out));
      stored.push_back(std::move(out));
      builder.reset();
    }
    if (!builder.add(e.key, e.value).is_ok()) std::abort();
  }
  BlockDecoder decoder;
  std::size_t raw = 0;
  auto start = Clock::now();
  for (int round = 0; round < 5; ++round) {
    for (const auto& s : stored) {
      auto c = decoder.decode(s, 1, 0);
      raw += c->data.size();
    }
  }
  double ns = ns_since(start) / (5 * stored.size());
  std::printf("\n== decode: text blocks, checksum + zstd: %.0f ns per block (%.1f KiB raw), %.0f MB/s\n",
              ns, raw / (5.0 * stored.size()) / 1024, raw / (ns * 5 * stored.size()) * 1e3);
}

// ---- bloom ------------------------------------------------------------------------------

void bench_bloom(std::uint64_t seed) {
  std::printf("\n== bloom filter: 1M keys, 1M absent probes\n");
  const int n = 1000000;
  std::vector<std::uint64_t> present, absent;
  for (int i = 0; i < n; ++i) {
    present.push_back(key_hash("user:" + std::to_string(seed % 1000000 + i)));
    absent.push_back(key_hash("absent:" + std::to_string(seed % 1000000 + i)));
  }
  for (double bits : {8.0, 10.0, 12.0, 16.0}) {
    for (int probes : {0, default_num_probes(bits) - 1, default_num_probes(bits) + 1}) {
      BloomFilterBuilder builder({.bits_per_key = bits, .num_probes = probes});
      auto start = Clock::now();
      for (auto h : present) builder.add_key_hash(h);
      std::string encoded = builder.finish();
      double build_ns = ns_since(start) / n;
      auto filter = BloomFilter::open(encoded);
      std::size_t fp = 0;
      start = Clock::now();
      for (auto h : absent) fp += filter->may_contain(h);
      double miss_ns = ns_since(start) / n;
      start = Clock::now();
      std::size_t hits = 0;
      for (auto h : present) hits += filter->may_contain(h);
      double hit_ns = ns_since(start) / n;
      if (hits != static_cast<std::size_t>(n)) std::printf("  FALSE NEGATIVES\n");
      std::printf("  %4.1f bits/key, %2d probes%s: false positives %.4f%%, build %.1f ns/key, "
                  "probe %.1f ns (absent) %.1f ns (present), filter %zu KiB\n",
                  bits, filter->num_probes(), probes == 0 ? " (default)" : "          ", 100.0 * fp / n,
                  build_ns, miss_ns, hit_ns, encoded.size() / 1024);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 20261125;
  std::printf("bench-engine-block, seed %llu, zstd %s\n", static_cast<unsigned long long>(seed), ZSTD_versionString());
  std::printf("\n== data blocks: mixed values (64 B - 1 KiB), internal keys user:NNNNNNNN;"
              " seek in a warm 256 KiB set and over all blocks\n");
  {
    std::vector<Entry> entries = make_entries(seed, ValueKind::kMixed, 40000);
    for (std::size_t size : {4096, 12288, 32768}) {
      for (int interval : {4, 8, 16, 32}) bench_block(entries, interval, size);
    }
  }
  std::printf("\n== data blocks: small values (8-64 B), keys h:user:NNNNNNNN:fNNN\n");
  {
    std::vector<Entry> entries = make_small_entries(seed, 400000);
    for (std::size_t size : {4096, 12288}) {
      for (int interval : {4, 8, 16, 32}) bench_block(entries, interval, size);
    }
  }
  std::printf("\n== small entries (index-like: 8-byte values)\n");
  for (int interval : {1, 4, 16}) bench_small_entries(interval);
  bench_pages(seed);
  bench_decode(seed);
  bench_bloom(seed);
  return static_cast<int>(g_sink & 0);
}
