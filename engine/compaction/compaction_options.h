// Options of leveled compaction and of the write throttle that keeps it ahead of writers.
//
// Level geometry. Level 0 holds flushed tables that may overlap; it is compacted into the
// base level (L1) once it holds l0_compaction_trigger files. A level L >= 1 may hold
// target_size(L) bytes: base_level_size for L1, times level_size_ratio per level below.
// The last level (kNumLevels - 1) has no target: it is never compacted further. Output
// tables are cut near target_file_size. Per-level overrides (levels[L]) replace any field
// that is non-zero there; a level without an override uses the derived values and
// DBOptions::compression.
//
// Write throttle (engine/compaction/write_controller.h). Past l0_slowdown_trigger L0 files
// or pending_bytes_slowdown bytes of estimated compaction debt each write is delayed, by
// more as the debt grows; past l0_stop_trigger files or pending_bytes_stop bytes writes
// wait until compaction catches up.
//
// Hooks: `filter` (compaction_filter.h) and `value_hooks` (compaction_value_hooks.h) are
// optional; both must outlive the engine.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/table/block_compression.h"
#include "engine/version/version_edit.h"
#include "src/runtime/timer_queue.h"

namespace cascade::engine {

class CompactionFilter;
class CompactionValueHooks;

// A level's resolved options.
struct LevelOptions {
  std::uint64_t target_size = 0;       // bytes; 0 for L0 and the last level (no target)
  std::uint64_t target_file_size = 0;  // output tables are cut once they pass it
  CompressionOptions compression;
};

// An override for one level: a zero (or empty) field keeps the derived value.
struct LevelOverride {
  std::uint64_t target_size = 0;
  std::uint64_t target_file_size = 0;
  std::optional<CompressionOptions> compression;
};

struct CompactionOptions {
  std::size_t l0_compaction_trigger = 4;
  std::size_t l0_slowdown_trigger = 12;
  std::size_t l0_stop_trigger = 20;
  std::uint64_t base_level_size = std::uint64_t{256} << 20;
  double level_size_ratio = 10.0;
  std::uint64_t target_file_size = std::uint64_t{32} << 20;
  // An output table is also cut once it overlaps this many times target_file_size bytes
  // of the level below its output level, so a later compaction of it stays bounded.
  std::uint64_t max_grandparent_overlap_factor = 10;
  std::uint64_t pending_bytes_slowdown = std::uint64_t{64} << 30;
  std::uint64_t pending_bytes_stop = std::uint64_t{256} << 30;
  // The delay of a slowed write grows linearly from the first to the second as the debt
  // goes from the slowdown point to the stop point.
  runtime::Duration slowdown_min_delay = std::chrono::microseconds(100);
  runtime::Duration slowdown_max_delay = std::chrono::milliseconds(5);
  // The share of the shard thread's time background work (flush, compaction) gets while
  // clients are waiting (runtime::Scheduler::set_background_share), recomputed at every
  // version change: `background_share` without compaction debt, growing linearly to
  // `max_background_share` as L0 fills from l0_compaction_trigger to l0_slowdown_trigger
  // files (or the pending bytes from 0 to pending_bytes_slowdown), and that past it. A
  // compaction falling behind gets the CPU it needs before writers must be slowed; a
  // shard with no debt keeps its clients' latency. The share is the thread's: of several
  // engines on one thread, all but one should set max_background_share 0, which leaves
  // the scheduler's share alone. background_share must be above 0, or background work
  // waits for every client to be idle.
  double background_share = 0.10;
  double max_background_share = 0.5;
  // Background compaction fibers per engine (per shard); 0 disables automatic compaction
  // (compact_range still works).
  std::size_t max_background_compactions = 1;
  // Pauses automatic compaction (RocksDB's and db_bench's disable_auto_compactions): no
  // background compaction is picked (a running job finishes; flushes go on, so L0 grows)
  // and the write throttle is off, since nothing would lift its stop — as RocksDB skips its
  // L0 and pending-bytes stall conditions then. compact_range still works. Changeable at
  // run time through DB::set_auto_compactions.
  bool disable_auto_compactions = false;
  // Compaction IO (reads and writes) in bytes per second; 0 is unlimited. Changeable at
  // run time through DB::set_compaction_rate_limit.
  std::uint64_t rate_limit = 0;
  std::vector<LevelOverride> levels;  // index = level; may be shorter than kNumLevels
  const CompactionFilter* filter = nullptr;
  CompactionValueHooks* value_hooks = nullptr;
};

using LevelOptionsArray = std::array<LevelOptions, kNumLevels>;

// Every level's options from `options`, with `compression` as the default compression.
LevelOptionsArray resolve_level_options(const CompactionOptions& options,
                                        const CompressionOptions& compression);

}  // namespace cascade::engine
