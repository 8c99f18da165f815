// Checksums for every block and record the engine writes.
//
// checksum = low 32 bits of XXH3-64(bytes, seed), seed = (file_number << 32) ^ offset
//
// Seeding with where the bytes belong means a block that is intact but sits in the wrong
// file or at the wrong offset (a misdirected write or read) fails verification too. Stored
// little-endian as 4 bytes wherever a format says "checksum".
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace cascade::engine {

inline std::uint64_t checksum_seed(std::uint64_t file_number, std::uint64_t offset) {
  return (file_number << 32) ^ offset;
}

inline std::uint32_t checksum(std::string_view bytes, std::uint64_t file_number,
                              std::uint64_t offset) {
  return static_cast<std::uint32_t>(
      XXH3_64bits_withSeed(bytes.data(), bytes.size(), checksum_seed(file_number, offset)));
}

// The 64-bit hash of a user key, computed once per lookup and reused by every table's
// filter (DESIGN: 32-bit hashes dominate the false-positive rate past ~40M keys).
inline std::uint64_t key_hash(std::string_view user_key) {
  return XXH3_64bits(user_key.data(), user_key.size());
}

}  // namespace cascade::engine
