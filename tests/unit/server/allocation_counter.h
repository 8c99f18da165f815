// Counts every operator new in the unit-server binary, so tests can show that a warm
// connection serves commands without allocating (connection.h's hot-path promise).
#pragma once

#include <cstdint>

namespace cascade::server::testing {
std::uint64_t allocation_count();
}  // namespace cascade::server::testing
