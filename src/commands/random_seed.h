// Seeds for the commands' random draws: SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER,
// RANDOMKEY. A std::random_device made per command cost more than the command: it was 55%
// of the server's samples under redis-benchmark's SPOP on one set (-c 50), since each one
// initializes a source of the kernel's entropy. Each thread seeds itself once from one and
// then steps a splitmix64 sequence (Steele, Lea and Flood's mixer): successive seeds are
// well spread, and no two threads share a sequence but by a 2^-64 chance.
#pragma once

#include <cstdint>
#include <random>

namespace cascade::commands {

inline std::uint64_t random_seed() {
  thread_local std::uint64_t state = [] {
    std::random_device device;
    return (std::uint64_t{device()} << 32) | device();
  }();
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace cascade::commands
