// Helpers shared by the version tests: tables with readable key ranges, edits, and a fiber
// to run IO in.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "engine/format/internal_key.h"
#include "engine/version/version_edit.h"
#include "tests/unit/runtime/io_test_loop.h"

namespace cascade::engine::testing {

inline std::string ikey(std::string_view user_key, SequenceNumber seq,
                        ValueType type = ValueType::kValue) {
  std::string k;
  append_internal_key(k, user_key, seq, type);
  return k;
}

// A table holding user keys [smallest, largest] written with sequences [seq_lo, seq_hi].
inline TableFile table(std::uint64_t number, std::string_view smallest, std::string_view largest,
                       SequenceNumber seq_lo = 1, SequenceNumber seq_hi = 1,
                       std::uint64_t size = 1000) {
  TableFile f;
  f.file_number = number;
  f.file_size = size;
  f.smallest = ikey(smallest, seq_hi);
  f.largest = ikey(largest, seq_lo);
  f.smallest_sequence = seq_lo;
  f.largest_sequence = seq_hi;
  return f;
}

// Runs fn in a fiber on a fresh Scheduler + Reactor and waits for it.
template <typename F>
void run_in_fiber(F fn) {
  runtime::testing::IoLoop loop;
  loop.sched.spawn(fn);
  REQUIRE(loop.run());
}

}  // namespace cascade::engine::testing
