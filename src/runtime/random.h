// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators"):
// one word of state, a Weyl step and a mixer per draw. A UniformRandomBitGenerator, so the
// standard distributions take it. Commands draw a few numbers each (SPOP, SRANDMEMBER,
// ZRANDMEMBER); std::mt19937_64 seeded per command cost a 2.5 KB state fill and a twist of
// 312 words before its first draw, 3% of the server's samples under SPOP. Not for secrets.
#pragma once

#include <cstdint>

namespace cascade::runtime {

class SplitMix64 {
 public:
  using result_type = std::uint64_t;

  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  result_type operator()() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace cascade::runtime
