// Cache-line-blocked bloom filter over 64-bit key hashes, for whole keys and key prefixes.
//
// Layout (engine/FORMAT.md, "Filter"; integers little-endian):
//
//   line[num_lines]        64 bytes each: 512 bits; bit b of a line is bit (b % 8) of its
//                          byte b / 8
//   num_lines              fixed32
//   prefix_extractor_id    fixed32: PrefixExtractor::id() of the extractor whose prefixes
//                          were added, 0 when none were
//   flags                  1 byte: bit 0 whole keys added, bit 1 prefixes added
//   num_probes             1 byte, 1..kMaxProbes
//   version                1 byte, kBloomFilterVersion (1); a reader refuses newer ones
//
// A hash h sets or tests num_probes bits of one line: the line is ((h >> 32) * num_lines)
// >> 32 and the bit positions come from the low 32 bits, remixed by one multiplication
// per probe (each probe takes the top 9 bits). So a lookup touches one cache line; the
// lines start at the block's first byte, which a page-aligned read or a decompressed
// (cache-line-aligned) buffer keeps 64-byte aligned.
//
// Hashes: whole keys use key_hash(user_key) (format/checksum.h), computed once per lookup
// and reused by every table; prefixes use prefix_hash(), a differently seeded XXH3, so a
// prefix never answers for an equal whole key. Whole keys and prefixes share the lines,
// sized for the number of distinct hashes added.
//
// A filter built without prefixes, or with another extractor, answers "may contain" to
// every prefix query: a changed extractor costs filtering, never a missed key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/result.h"

namespace cascade::engine {

constexpr std::uint8_t kBloomFilterVersion = 1;
constexpr int kMaxProbes = 16;
constexpr std::size_t kBloomLineSize = 64;
constexpr std::size_t kBloomTrailerSize = 11;
// BloomFilterBuilder::finish's pause interval: about 0.1 ms of bit setting.
constexpr std::size_t kBloomPauseHashes = 16384;

std::uint64_t prefix_hash(std::string_view prefix);

// Maps a user key to the prefix scans are grouped by (e.g. one collection's members), or
// nullopt when the key has none. `name` identifies the rule: filters record a hash of it.
struct PrefixExtractor {
  std::string name;
  std::function<std::optional<std::string_view>(std::string_view user_key)> extract;

  std::uint32_t id() const;  // never 0
};

struct BloomFilterOptions {
  double bits_per_key = 10.0;
  int num_probes = 0;  // 0: derived from bits_per_key
  bool whole_keys = true;
  const PrefixExtractor* prefix_extractor = nullptr;  // must outlive the builder
};

int default_num_probes(double bits_per_key);

class BloomFilterBuilder {
 public:
  explicit BloomFilterBuilder(const BloomFilterOptions& options = {});

  // Adds the user key's hash (if whole_keys) and its prefix's hash (with an extractor).
  void add_user_key(std::string_view user_key);
  // Adds a precomputed hash: key_hash() of a whole key.
  void add_key_hash(std::uint64_t hash);
  // Adds a precomputed prefix_hash(); needs a prefix extractor in the options.
  void add_prefix_hash(std::uint64_t hash);

  std::size_t num_hashes() const { return hashes_.size(); }
  // Encodes the filter and empties the builder for the next one. `pause`, when given, is
  // called after every kBloomPauseHashes hashes set: a table's filter of half a million
  // keys takes milliseconds, which a background fiber (compaction) must not hold the
  // shard's thread for. The bytes are the same with or without it.
  std::string finish(const std::function<void()>& pause = {});

 private:
  BloomFilterOptions options_;
  int num_probes_;
  std::vector<std::uint64_t> hashes_;
  // Sorted input repeats hashes back to back (versions of one key, keys of one prefix):
  // skipping those keeps the filter sized for distinct hashes.
  std::optional<std::uint64_t> last_key_hash_;
  std::optional<std::uint64_t> last_prefix_hash_;
};

// A view of an encoded filter; the bytes must outlive it.
class BloomFilter {
 public:
  // Corruption if the layout does not add up; NotSupported for a newer version.
  static Result<BloomFilter> open(std::string_view encoded);

  // False only if no key with this key_hash() was added (or whole keys were not added).
  bool may_contain(std::uint64_t key_hash) const;
  bool may_contain_key(std::string_view user_key) const;
  // False only if no key with this prefix was added by the extractor `extractor_id`.
  bool may_contain_prefix(std::uint32_t extractor_id, std::uint64_t prefix_hash) const;

  std::uint32_t num_lines() const { return num_lines_; }
  int num_probes() const { return num_probes_; }

 private:
  bool probe(std::uint64_t hash) const;

  const char* lines_ = nullptr;
  std::uint32_t num_lines_ = 0;
  std::uint32_t prefix_extractor_id_ = 0;
  std::uint8_t flags_ = 0;
  int num_probes_ = 0;
};

}  // namespace cascade::engine
