// bench-engine-iterator: what the iterator stack costs over memtables.
//
// Builds `tables` memtables (default 4) of `entries` entries each (default 250000): random
// 16-byte user keys, 64-byte values, unique sequences, one key in 8 rewritten in another
// memtable so versions overlap. Then times, as entries (or keys) per second:
//   raw 1 memtable     one MemTableIterator alone, the floor
//   merge fwd/rev      MergingIterator over all memtables, every entry
//   db fwd/rev         DBIterator over that merge at the newest snapshot, every key
// and, as ns per operation over shuffled existing keys:
//   merge seek         MergingIterator::seek (one seek per child + heap build)
//   db seek            DBIterator::seek, including landing on the visible version
//   db seek+next10     a seek and ten next()s, a short range scan
// Usage: bench-engine-iterator [entries=250000] [tables=4] [runs=3]
// Seed CASCADE_SEED or 1. A benchmark, not a test: it asserts nothing about time.
//
// First figures (debugoptimized, 2-core VM shared with other builds, load ~3; two runs):
//   raw 1 memtable   33-39 M entries/s      merge fwd/rev   6.8-7.5 M entries/s
//   db fwd           4.5 M keys/s           db rev          3.6-3.7 M keys/s
//   merge seek       1.8-2.0 us             db seek         1.8-2.9 us
// A merged step costs ~140 ns against ~30 ns for one memtable alone: memtable entries sit
// in the arena in insertion (random) order, and the merge's next move depends on the key
// it just loaded, so cache misses that a lone scan overlaps are paid one after another
// (with 4 x 20000 entries, all in cache, a merged step is ~36 ns). A seek is one B+tree
// descent per child. Reverse DB scans pay the copy of each key and value.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/iterator/db_iterator.h"
#include "engine/iterator/memtable_iterator.h"
#include "engine/iterator/merging_iterator.h"
#include "engine/memtable/memtable.h"

using namespace cascade::engine;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string random_key(std::mt19937_64& rng) {
  std::string k(16, '\0');
  for (char& c : k) c = static_cast<char>(rng());
  return k;
}

struct Data {
  std::vector<std::unique_ptr<MemTable>> memtables;
  std::vector<std::string> keys;
};

Data build(std::mt19937_64& rng, int entries, int tables) {
  Data d;
  std::string value(64, 'v');
  SequenceNumber seq = 0;
  for (int t = 0; t < tables; ++t) {
    auto mem = std::make_unique<MemTable>();
    for (int i = 0; i < entries; ++i) {
      bool rewrite = !d.keys.empty() && rng() % 8 == 0;
      std::string key = rewrite ? d.keys[rng() % d.keys.size()] : random_key(rng);
      mem->add(++seq, ValueType::kValue, key, value);
      if (!rewrite) d.keys.push_back(std::move(key));
    }
    d.memtables.push_back(std::move(mem));
  }
  return d;
}

std::unique_ptr<MergingIterator> merge(const Data& d) {
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (auto it = d.memtables.rbegin(); it != d.memtables.rend(); ++it) {
    children.push_back(std::make_unique<MemTableIterator>(**it));
  }
  return std::make_unique<MergingIterator>(std::move(children));
}

// Touches every key and value so the loop cannot be optimised away.
template <typename It>
std::uint64_t scan(It& it, bool forward) {
  std::uint64_t n = 0, sink = 0;
  if (forward) {
    for (it.seek_to_first(); it.valid(); it.next(), ++n) sink += it.key().size() + it.value()[0];
  } else {
    for (it.seek_to_last(); it.valid(); it.prev(), ++n) sink += it.key().size() + it.value()[0];
  }
  if (sink == 1) std::puts("");
  return n;
}

template <typename It>
void report_scan(const char* name, It& it, bool forward, int runs) {
  double best = 1e30;
  std::uint64_t n = 0;
  for (int r = 0; r < runs; ++r) {
    auto start = Clock::now();
    n = scan(it, forward);
    best = std::min(best, seconds_since(start));
  }
  std::printf("%-18s %10llu entries  %8.1f ms  %6.2f M entries/s\n", name,
              static_cast<unsigned long long>(n), best * 1e3, n / best / 1e6);
}

template <typename SeekOnce>
void report_seeks(const char* name, const std::vector<std::string>& targets, int runs,
                  SeekOnce seek_once) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    auto start = Clock::now();
    for (const std::string& t : targets) seek_once(t);
    best = std::min(best, seconds_since(start));
  }
  std::printf("%-18s %10zu seeks    %8.1f ns/op\n", name, targets.size(), best * 1e9 / targets.size());
}

}  // namespace

int main(int argc, char** argv) {
  int entries = argc > 1 ? std::atoi(argv[1]) : 250000;
  int tables = argc > 2 ? std::atoi(argv[2]) : 4;
  int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  const char* env = std::getenv("CASCADE_SEED");
  std::mt19937_64 rng(env ? std::strtoull(env, nullptr, 0) : 1);

  Data d = build(rng, entries, tables);
  std::printf("%d memtables x %d entries, %zu distinct keys, best of %d runs\n", tables, entries,
              d.keys.size(), runs);

  MemTableIterator raw(*d.memtables[0]);
  report_scan("raw 1 memtable", raw, true, runs);
  auto merged = merge(d);
  report_scan("merge fwd", *merged, true, runs);
  report_scan("merge rev", *merged, false, runs);
  DBIterator db(merge(d), {});
  report_scan("db fwd", db, true, runs);
  report_scan("db rev", db, false, runs);

  std::vector<std::string> targets(d.keys.begin(), d.keys.begin() + std::min<std::size_t>(d.keys.size(), 200000));
  std::shuffle(targets.begin(), targets.end(), rng);
  std::vector<std::string> internal_targets;
  for (const auto& t : targets) {
    internal_targets.emplace_back();
    append_internal_key(internal_targets.back(), t, kMaxSequenceNumber, kValueTypeForSeek);
  }
  std::uint64_t sink = 0;
  report_seeks("merge seek", internal_targets, runs, [&](const std::string& t) {
    merged->seek(t);
    sink += merged->valid();
  });
  report_seeks("db seek", targets, runs, [&](const std::string& t) {
    db.seek(t);
    sink += db.valid();
  });
  report_seeks("db seek+next10", targets, runs, [&](const std::string& t) {
    db.seek(t);
    for (int i = 0; i < 10 && db.valid(); ++i) db.next();
    sink += db.valid();
  });
  if (sink == 1) std::puts("");
  return 0;
}
