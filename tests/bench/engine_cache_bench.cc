// bench-engine-cache: the measurement behind the block cache (engine/cache/block_cache.h).
//
// Part 1, cost per call on a cache of `entries` resident blocks of 64 bytes (charge 256):
//   hit      lookup of a resident key in random order, handle released at once
//   miss     lookup of an absent key
//   insert   insert of a new key into a full cache (one eviction each), handle released
//   lru-hit  the same hit loop on the bench's plain LRU (hash map + list splice), for scale
// Part 2, hit ratios of S3-FIFO against that LRU, both sized to `cache_pct` percent of the
// key space (equal charges, so bytes and blocks agree): reads of a Zipfian(theta) key
// population, with a one-pass scan of never-seen keys mixed in (`scan_pct` percent of
// reads, in runs of 256 like a range scan or a compaction input). Reported: the hit
// ratio of the Zipfian reads alone (what the scan costs the working set) and overall.
// Usage: bench-engine-cache [entries=200000] [keys=1000000] [reads=4000000] [theta=0.99]
//                           [cache_pct=10] [scan_pct=0,25,50]
// Seed CASCADE_SEED or 1. A benchmark, not a test: it asserts nothing about time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cache/block_cache.h"

using namespace cascade::engine;

namespace {

constexpr std::size_t kValueBytes = 64;
constexpr std::size_t kCharge = kValueBytes + kCacheEntryOverhead;

BlockCacheKey key_for(std::uint64_t id) { return BlockCacheKey{id >> 20, (id & 0xfffff) * 4096}; }

// The comparison LRU: counts blocks, all of one charge.
class Lru {
 public:
  explicit Lru(std::size_t blocks) : capacity_(blocks) { index_.reserve(blocks * 2); }
  bool read(std::uint64_t id) {
    auto it = index_.find(id);
    if (it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    order_.push_front(id);
    index_[id] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back());
      order_.pop_back();
    }
    return false;
  }

 private:
  std::size_t capacity_;
  std::list<std::uint64_t> order_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> index_;
};

// Zipfian ranks over [0, n) by inverse CDF; ranks are scattered over the key space so
// the hot keys are not neighbours.
class Zipf {
 public:
  Zipf(std::size_t n, double theta) : cdf_(n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(double(i + 1), theta));
    for (double& c : cdf_) c /= sum;
  }
  std::uint64_t next(std::mt19937_64& rng) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    std::size_t rank = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return (rank * 0x9e3779b97f4a7c15ULL) % cdf_.size();
  }

 private:
  std::vector<double> cdf_;
};

double ns_per(std::chrono::steady_clock::duration d, std::size_t ops) {
  return std::chrono::duration<double, std::nano>(d).count() / double(ops);
}

void bench_calls(std::size_t entries, std::mt19937_64& rng) {
  BlockCacheOptions options;
  options.capacity = entries * kCharge;
  BlockCache cache(options);
  std::string bytes(kValueBytes, 'v');
  for (std::uint64_t i = 0; i < entries; ++i) cache.insert(key_for(i), CacheValue::copy_of(bytes));
  std::vector<std::uint64_t> order(entries);
  for (std::uint64_t i = 0; i < entries; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t ops = std::max<std::size_t>(entries, 1000000);

  std::size_t found = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ops; ++i) found += bool(cache.lookup(key_for(order[i % entries])));
  auto t1 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ops; ++i) found += bool(cache.lookup(key_for(entries + order[i % entries])));
  auto t2 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ops; ++i) cache.insert(key_for(2 * entries + i), CacheValue::copy_of(bytes));
  auto t3 = std::chrono::steady_clock::now();

  Lru lru(entries);
  for (std::uint64_t i = 0; i < entries; ++i) lru.read(i);
  auto t4 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ops; ++i) found += lru.read(order[i % entries]);
  auto t5 = std::chrono::steady_clock::now();

  std::printf("calls on %zu resident blocks (%zu ops each; %zu found)\n", entries, ops, found);
  std::printf("  %-8s %7.1f ns\n", "hit", ns_per(t1 - t0, ops));
  std::printf("  %-8s %7.1f ns\n", "miss", ns_per(t2 - t1, ops));
  std::printf("  %-8s %7.1f ns   (includes the 64-byte value copy and its allocation)\n",
              "insert", ns_per(t3 - t2, ops));
  std::printf("  %-8s %7.1f ns\n", "lru-hit", ns_per(t5 - t4, ops));
}

void bench_hit_ratio(std::size_t keys, std::size_t reads, double theta, double cache_pct,
                     int scan_pct, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Zipf zipf(keys, theta);
  std::size_t blocks = static_cast<std::size_t>(double(keys) * cache_pct / 100.0);
  BlockCacheOptions options;
  options.capacity = blocks * kCharge;
  BlockCache cache(options);
  Lru lru(blocks);
  std::string bytes(kValueBytes, 'v');
  auto s3_read = [&](std::uint64_t id) {
    if (cache.lookup(key_for(id))) return true;
    cache.insert(key_for(id), CacheValue::copy_of(bytes));
    return false;
  };

  std::size_t zipf_reads = 0, s3_zipf_hits = 0, lru_zipf_hits = 0, s3_hits = 0, lru_hits = 0;
  std::uint64_t next_scan_key = std::uint64_t{1} << 40;  // never read by the Zipfian part
  std::size_t done = 0;
  while (done < reads) {
    if (int(rng() % 100) < scan_pct) {
      for (int i = 0; i < 256 && done < reads; ++i, ++done) {
        std::uint64_t id = next_scan_key++;
        s3_hits += s3_read(id);
        lru_hits += lru.read(id);
      }
      continue;
    }
    // Keep the mix: one Zipfian read for each scan-sized slot not taken by a scan.
    for (int i = 0; i < 256 && done < reads; ++i, ++done) {
      std::uint64_t id = zipf.next(rng);
      bool s3 = s3_read(id), l = lru.read(id);
      ++zipf_reads;
      s3_zipf_hits += s3;
      lru_zipf_hits += l;
      s3_hits += s3;
      lru_hits += l;
    }
  }
  auto pct = [](std::size_t a, std::size_t b) { return b == 0 ? 0.0 : 100.0 * double(a) / double(b); };
  std::printf("  scan %2d%%   zipf reads: S3-FIFO %5.1f%%  LRU %5.1f%%   all reads: S3-FIFO %5.1f%%  LRU %5.1f%%\n",
              scan_pct, pct(s3_zipf_hits, zipf_reads), pct(lru_zipf_hits, zipf_reads),
              pct(s3_hits, reads), pct(lru_hits, reads));
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t entries = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  std::size_t keys = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  std::size_t reads = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 4000000;
  double theta = argc > 4 ? std::strtod(argv[4], nullptr) : 0.99;
  double cache_pct = argc > 5 ? std::strtod(argv[5], nullptr) : 10.0;
  std::vector<int> scans = {0, 25, 50};
  if (argc > 6) scans = {std::atoi(argv[6])};
  const char* env = std::getenv("CASCADE_SEED");
  std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 0) : 1;

  std::mt19937_64 rng(seed);
  bench_calls(entries, rng);
  std::printf("hit ratio: %zu keys, Zipfian theta %.2f, cache %.0f%% of keys, %zu reads, scans in runs of 256\n",
              keys, theta, cache_pct, reads);
  for (int scan : scans) bench_hit_ratio(keys, reads, theta, cache_pct, scan, seed);
  return 0;
}
