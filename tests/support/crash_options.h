// How FaultFileSystem::simulate_crash chooses what survives, and its report of what it did.
// The crash model itself is described at the top of fault_file_system.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cascade::test_support {

// What happens to everything not yet made durable (unsynced writes and size changes, and
// directory operations not followed by sync_dir).
enum class Unsynced : std::uint8_t {
  kLost,    // power loss at the worst moment: only durable state survives
  kRandom,  // power loss in the middle of writeback: each piece lands or not, see below
  kKept,    // a process crash: the kernel's page cache survives, so everything lands
};

struct CrashOptions {
  std::uint64_t seed = 0;
  Unsynced unsynced = Unsynced::kRandom;

  // The knobs of Unsynced::kRandom, each decision drawn from `seed`:
  double write_lands = 0.5;        // a pending write lands (whole or torn), else dropped
  double write_torn = 0.3;         // a landing write is torn: only a prefix of sectors lands
  std::uint32_t sector_size = 512;  // tears fall on multiples of this (512 or 4096)
  // The file's size metadata lands: its size after the crash is one of its unsynced sizes
  // (picked at random), else its durable size. Bytes past the durable size that no landed
  // write covers are garbage (or zeros without garbage_fill) where a write past the end
  // grew the file, zeros where allocate or truncate did; landed bytes past the chosen size
  // are cut off.
  double size_lands = 0.5;
  bool garbage_fill = true;
  double dir_op_lands = 0.5;  // an unsynced directory operation survives

  static CrashOptions lose_unsynced(std::uint64_t seed) {
    CrashOptions o;
    o.seed = seed;
    o.unsynced = Unsynced::kLost;
    return o;
  }
  static CrashOptions keep_unsynced(std::uint64_t seed) {
    CrashOptions o;
    o.seed = seed;
    o.unsynced = Unsynced::kKept;
    return o;
  }
};

// What one crash did, for assertions and for a failing test's output.
struct CrashReport {
  std::uint64_t seed = 0;
  std::size_t writes_dropped = 0;
  std::size_t writes_whole = 0;
  std::size_t writes_torn = 0;
  std::size_t sizes_changed = 0;  // files whose size after the crash is not their durable size
  std::size_t dir_ops_lost = 0;
  std::size_t dir_ops_kept = 0;
  std::string log;  // one line per decision (capped per file), for printing on failure
};

}  // namespace cascade::test_support
