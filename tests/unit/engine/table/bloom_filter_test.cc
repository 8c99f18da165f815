#include "engine/table/bloom_filter.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string>

#include "engine/format/checksum.h"
#include "tests/unit/engine/table/table_test_util.h"

using namespace cascade::engine;
using cascade::engine::testing::test_seed;

namespace {

std::string present_key(std::uint64_t i) { return "user:" + std::to_string(i); }
std::string absent_key(std::uint64_t i) { return "absent:" + std::to_string(i); }

// Builds a filter over `n` keys numbered from `base` and returns the false-positive rate
// over `probes` absent keys; fails on any false negative.
double measure_false_positives(double bits_per_key, std::uint64_t base, int n, int probes) {
  BloomFilterBuilder builder({.bits_per_key = bits_per_key});
  for (int i = 0; i < n; ++i) builder.add_key_hash(key_hash(present_key(base + i)));
  std::string encoded = builder.finish();
  auto filter = BloomFilter::open(encoded);
  REQUIRE(filter.has_value());
  int false_negatives = 0;
  for (int i = 0; i < n; ++i) false_negatives += !filter->may_contain(key_hash(present_key(base + i)));
  CHECK(false_negatives == 0);
  int positives = 0;
  for (int i = 0; i < probes; ++i) positives += filter->may_contain(key_hash(absent_key(base + i)));
  return static_cast<double>(positives) / probes;
}

const PrefixExtractor kCollectionPrefix{
    "collection-before-colon", [](std::string_view key) -> std::optional<std::string_view> {
      auto colon = key.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      return key.substr(0, colon + 1);
    }};

}  // namespace

TEST_CASE("a bloom filter at 10 bits per key has about 1% false positives and no false negatives") {
  std::uint64_t base = test_seed("bloom 10 bits") % 1000000000;
  double rate = measure_false_positives(10, base, 1000000, 1000000);
  std::printf("bloom 10 bits/key, 6 probes: %.4f%% false positives\n", rate * 100);
  CHECK(rate < 0.015);
  CHECK(rate > 0.005);  // far below the theory (0.96%) would mean the test measures nothing
}

TEST_CASE("a bloom filter at 16 bits per key has under 0.15% false positives") {
  std::uint64_t base = test_seed("bloom 16 bits") % 1000000000;
  double rate = measure_false_positives(16, base, 1000000, 1000000);
  std::printf("bloom 16 bits/key, 9 probes: %.4f%% false positives\n", rate * 100);
  CHECK(rate < 0.0015);
}

TEST_CASE("small filters and any bits per key never give a false negative") {
  std::mt19937_64 rng(test_seed("bloom no false negatives"));
  for (double bits : {1.0, 4.0, 7.5, 10.0, 23.0}) {
    for (int n : {1, 2, 7, 100, 5000}) {
      BloomFilterBuilder builder({.bits_per_key = bits});
      std::vector<std::uint64_t> hashes;
      for (int i = 0; i < n; ++i) hashes.push_back(rng());
      for (auto h : hashes) builder.add_key_hash(h);
      std::string encoded = builder.finish();
      auto filter = BloomFilter::open(encoded);
      REQUIRE(filter.has_value());
      for (auto h : hashes) REQUIRE(filter->may_contain(h));
    }
  }
}

TEST_CASE("the filter is sized in whole 64-byte lines with the derived probe count") {
  BloomFilterBuilder builder({.bits_per_key = 10});
  for (int i = 0; i < 1000; ++i) builder.add_key_hash(key_hash(present_key(i)));
  builder.add_key_hash(key_hash(present_key(999)));  // repeated back to back: counted once
  std::string encoded = builder.finish();
  auto filter = BloomFilter::open(encoded);
  REQUIRE(filter.has_value());
  CHECK(filter->num_lines() == 20);  // 1000 keys * 10 bits / 512 bits per line, rounded up
  CHECK(encoded.size() == 20 * kBloomLineSize + kBloomTrailerSize);
  CHECK(filter->num_probes() == 6);
  CHECK(default_num_probes(16) == 9);
}

TEST_CASE("an empty filter contains nothing, and one without whole keys rules nothing out") {
  BloomFilterBuilder empty;
  std::string encoded = empty.finish();
  auto filter = BloomFilter::open(encoded);
  REQUIRE(filter.has_value());
  CHECK_FALSE(filter->may_contain_key("anything"));

  BloomFilterBuilder prefixes_only({.whole_keys = false, .prefix_extractor = &kCollectionPrefix});
  prefixes_only.add_user_key("set1:member");
  encoded = prefixes_only.finish();
  filter = BloomFilter::open(encoded);
  REQUIRE(filter.has_value());
  CHECK(filter->may_contain_key("never:added"));
  CHECK(filter->may_contain_prefix(kCollectionPrefix.id(), prefix_hash("set1:")));
}

TEST_CASE("a prefix filter answers for prefixes that were added and skips absent ones") {
  BloomFilterBuilder builder({.prefix_extractor = &kCollectionPrefix});
  for (int set = 0; set < 2000; ++set) {
    for (int member = 0; member < 5; ++member) {
      builder.add_user_key("set" + std::to_string(set) + ":m" + std::to_string(member));
    }
  }
  builder.add_user_key("no-prefix-key");
  CHECK(builder.num_hashes() == 2000 * 5 + 2000 + 1);
  std::string encoded = builder.finish();
  auto filter = BloomFilter::open(encoded);
  REQUIRE(filter.has_value());
  const std::uint32_t id = kCollectionPrefix.id();
  for (int set = 0; set < 2000; ++set) {
    REQUIRE(filter->may_contain_prefix(id, prefix_hash("set" + std::to_string(set) + ":")));
    REQUIRE(filter->may_contain_key("set" + std::to_string(set) + ":m3"));
  }
  CHECK(filter->may_contain_key("no-prefix-key"));
  int false_positives = 0;
  for (int set = 2000; set < 12000; ++set) {
    false_positives += filter->may_contain_prefix(id, prefix_hash("set" + std::to_string(set) + ":"));
  }
  CHECK(false_positives < 200);  // about 1% of 10000
  // A prefix is hashed apart from an equal whole key.
  CHECK(prefix_hash("set1:") != key_hash("set1:"));
}

TEST_CASE("a filter built with another prefix extractor never rules a prefix out") {
  BloomFilterBuilder builder({.prefix_extractor = &kCollectionPrefix});
  builder.add_user_key("set1:a");
  std::string encoded = builder.finish();
  auto filter = BloomFilter::open(encoded);
  REQUIRE(filter.has_value());
  PrefixExtractor other{"first-two-bytes", [](std::string_view k) -> std::optional<std::string_view> {
                          return k.substr(0, 2);
                        }};
  int ruled_out = 0;
  for (int i = 0; i < 1000; ++i) ruled_out += !filter->may_contain_prefix(other.id(), prefix_hash(std::to_string(i)));
  CHECK(ruled_out == 0);
  for (int i = 0; i < 1000; ++i) ruled_out += !filter->may_contain_prefix(kCollectionPrefix.id(), prefix_hash(std::to_string(i)));
  CHECK(ruled_out > 900);
}

TEST_CASE("opening a filter checks its trailer and refuses newer versions") {
  BloomFilterBuilder builder;
  for (int i = 0; i < 100; ++i) builder.add_key_hash(key_hash(present_key(i)));
  std::string good = builder.finish();
  CHECK(BloomFilter::open(good).has_value());
  CHECK(BloomFilter::open(std::string_view(good).substr(0, 5)).status().is_corruption());
  CHECK(BloomFilter::open(std::string_view(good).substr(64)).status().is_corruption());
  std::string newer = good;
  newer.back() = 2;
  CHECK(BloomFilter::open(newer).status().code() == cascade::StatusCode::kNotSupported);
  std::string no_probes = good;
  no_probes[no_probes.size() - 2] = 0;
  CHECK(BloomFilter::open(no_probes).status().is_corruption());
  std::string bad_lines = good;
  bad_lines[bad_lines.size() - kBloomTrailerSize] ^= 1;
  CHECK(BloomFilter::open(bad_lines).status().is_corruption());
}

TEST_CASE("finish pauses every kBloomPauseHashes hashes and builds the same bytes") {
  const std::size_t n = 3 * kBloomPauseHashes + 100;
  BloomFilterBuilder plain({.bits_per_key = 10});
  BloomFilterBuilder paused({.bits_per_key = 10});
  for (std::size_t i = 0; i < n; ++i) {
    plain.add_key_hash(key_hash(present_key(i)));
    paused.add_key_hash(key_hash(present_key(i)));
  }
  int pauses = 0;
  std::string with_pauses = paused.finish([&] { ++pauses; });
  CHECK(pauses == 3);
  CHECK(with_pauses == plain.finish());
  int again = 0;
  (void)paused.finish([&] { ++again; });  // emptied: nothing to set, no pause
  CHECK(again == 0);
}
