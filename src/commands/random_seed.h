// Seeds for the commands' random draws: SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER,
// RANDOMKEY. A std::random_device made per command cost more than the command: it was 55%
// of the server's samples under redis-benchmark's SPOP on one set (-c 50), since each one
// initializes a source of the kernel's entropy. Each thread seeds itself once from one and
// then steps a SplitMix64 sequence: successive seeds are well spread, and no two threads
// share a sequence but by a 2^-64 chance.
#pragma once

#include <cstdint>
#include <random>

#include "src/runtime/random.h"

namespace cascade::commands {

inline std::uint64_t random_seed() {
  thread_local runtime::SplitMix64 sequence = [] {
    std::random_device device;
    return runtime::SplitMix64((std::uint64_t{device()} << 32) | device());
  }();
  return sequence();
}

}  // namespace cascade::commands
