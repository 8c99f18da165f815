// Helpers shared by the table tests: the replayable seed and key/value generators.
#pragma once

#include "tests/support/test_seed.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "engine/format/internal_key.h"

namespace cascade::engine::testing {

using cascade::testing::test_seed;

inline std::string internal_key(std::string_view user_key, SequenceNumber seq,
                                ValueType type = ValueType::kValue) {
  std::string k;
  append_internal_key(k, user_key, seq, type);
  return k;
}

inline std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Bytes over a small alphabet, so prefixes are shared often.
inline std::string random_key(std::mt19937_64& rng, std::size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 4);
  return s;
}

}  // namespace cascade::engine::testing
