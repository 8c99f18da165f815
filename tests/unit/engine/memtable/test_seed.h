// The seed of a randomized test: CASCADE_SEED from the environment when set (to replay a
// failure exactly), otherwise a fresh one. The caller prints it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>

namespace cascade::engine::testing {

inline std::uint64_t test_seed() {
  if (const char* env = std::getenv("CASCADE_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 0);
  }
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

}  // namespace cascade::engine::testing
