// The seed of a randomized test: CASCADE_SEED from the environment when set (to replay a
// failure exactly), otherwise a fresh one. Printed either way, with the test's name, so a
// failing run's output says how to replay it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace cascade::testing {

inline std::uint64_t test_seed(const char* test_name) {
  std::uint64_t seed;
  if (const char* env = std::getenv("CASCADE_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 0);
  } else {
    std::random_device device;
    seed = (std::uint64_t{device()} << 32) | device();
  }
  std::printf("%s: CASCADE_SEED=%llu\n", test_name, static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace cascade::testing
