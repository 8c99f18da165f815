// Random table contents for the table tests: many versions per key, deletions, empty
// values and values near and above the 32 KiB block cap, sorted in internal-key order.
#pragma once

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/format/internal_key.h"
#include "tests/unit/engine/table/table_file_test_util.h"
#include "tests/unit/engine/table/table_test_util.h"

namespace cascade::engine::testing {

inline std::string random_user_key(std::mt19937_64& rng) {
  return random_key(rng, 6) + ":" + std::to_string(rng() % 10000000);
}

inline std::string random_value(std::mt19937_64& rng) {
  std::uint64_t r = rng() % 1000;
  std::size_t size = r < 150   ? 0
                     : r < 945 ? 1 + rng() % 300
                     : r < 995 ? 1000 + rng() % 3000
                               : 20000 + rng() % 20000;
  if (rng() % 2 == 0) return random_bytes(rng, size);
  std::string v;
  while (v.size() < size) v += "field" + std::to_string(rng() % 100) + "=value;";
  v.resize(size);
  return v;
}

struct TableModel {
  Entries entries;                  // sorted by internal key
  std::vector<std::string> absent;  // user keys not in the table
};

inline TableModel random_table_model(std::mt19937_64& rng, std::size_t num_entries,
                                     std::size_t num_absent) {
  std::set<std::string> user_keys{""};
  while (user_keys.size() * 3 < num_entries) user_keys.insert(random_user_key(rng));
  TableModel m;
  for (const std::string& uk : user_keys) {
    std::set<SequenceNumber, std::greater<>> seqs;
    std::size_t versions = 1 + rng() % 5;
    while (seqs.size() < versions) seqs.insert(1 + rng() % 1000000);
    for (SequenceNumber seq : seqs) {
      bool deletion = rng() % 10 == 0;
      m.entries.emplace_back(internal_key(uk, seq, deletion ? ValueType::kDeletion : ValueType::kValue),
                             deletion ? std::string() : random_value(rng));
      if (m.entries.size() == num_entries) break;
    }
    if (m.entries.size() == num_entries) break;
  }
  while (m.absent.size() < num_absent) {
    std::string k = random_user_key(rng) + "!";
    if (!user_keys.contains(k)) m.absent.push_back(k);
  }
  return m;
}

}  // namespace cascade::engine::testing
