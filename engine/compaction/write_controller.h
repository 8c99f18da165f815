// WriteController: how hard writers must back off while compaction is behind.
//
// From the current version's L0 table count and pending compaction bytes (compaction_debt.h)
// it derives a state:
//   kNormal    below both slowdown points;
//   kSlowdown  at or past a slowdown point (l0_slowdown_trigger files or
//              pending_bytes_slowdown bytes): each write sleeps delay() first, from
//              slowdown_min_delay growing linearly to slowdown_max_delay as the debt
//              (the larger of the two measures, as a fraction of the way from the
//              slowdown point to the stop point) grows;
//   kStop      at or past a stop point: writes wait until compaction brings it down.
// update() returns a log line whenever the state changes (entering a slowdown or a stop
// says why; leaving says for how long), so each episode is logged once, never silently.
// The DB counts the time writers spent delayed or stopped (DBStats).
//
// Pure state and arithmetic: one shard, never suspends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/compaction/compaction_options.h"
#include "src/runtime/timer_queue.h"

namespace cascade::engine {

enum class WriteState : std::uint8_t { kNormal, kSlowdown, kStop };

struct WritePressure {
  std::size_t level0_files = 0;
  std::uint64_t pending_bytes = 0;
};

class WriteController {
 public:
  explicit WriteController(const CompactionOptions& options) : options_(options) {}

  // Recomputes the state; a message when it changed.
  std::optional<std::string> update(const WritePressure& pressure, runtime::TimePoint now);
  WriteState state() const { return state_; }
  // How long a write sleeps in kSlowdown (zero otherwise).
  runtime::Duration delay() const;
  std::uint64_t episodes(WriteState s) const { return s == WriteState::kStop ? stops_ : slowdowns_; }
  // The background share for this pressure (CompactionOptions::max_background_share).
  double background_share(const WritePressure& p) const;

 private:
  WriteState classify(const WritePressure& p) const;
  double debt_fraction(const WritePressure& p) const;
  std::string describe(const WritePressure& p) const;

  const CompactionOptions& options_;
  WriteState state_ = WriteState::kNormal;
  double debt_ = 0;
  runtime::TimePoint since_{};
  std::uint64_t slowdowns_ = 0;
  std::uint64_t stops_ = 0;
};

}  // namespace cascade::engine
