// Keys, values and random numbers for cascade-bench.
//
// Keys: key i of the key space [0, num) is 16 bytes: i as 8 bytes big-endian, then eight
// '0' bytes. Big-endian makes byte order equal numeric order, so fillseq appends in key
// order (db_bench's layout for 16-byte keys with no prefix).
//
// Values: a 1 MiB pool is built from pieces of value_size bytes; each piece starts with
// round(value_size * compression_ratio) random printable bytes and repeats them to fill
// the piece, so a compressor keeps about that fraction (the random part itself compresses
// little: 95 symbols, about 6.6 bits a byte). next() hands out consecutive windows of the
// pool, wrapping around, so values differ from write to write but cost no generation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cascade::bench {

inline constexpr std::size_t kKeySize = 16;

// splitmix64: small, fast, and good enough to pick keys uniformly.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for any n < 2^24.
  std::uint64_t uniform(std::uint64_t n) { return next() % n; }

 private:
  std::uint64_t state_;
};

// Writes key `index` into `out` (resized to kKeySize).
void make_key(std::uint64_t index, std::string& out);

class ValueGenerator {
 public:
  ValueGenerator(std::size_t value_size, double compression_ratio, std::uint64_t seed);
  // A value of value_size bytes, valid until the generator is destroyed.
  std::string_view next();

 private:
  std::string pool_;
  std::size_t value_size_;
  std::size_t position_ = 0;
};

}  // namespace cascade::bench
