// Write slowdown and stop decisions (write_controller.h).
#include "engine/compaction/write_controller.h"

#include <algorithm>

namespace cascade::engine {

namespace {

const char* name_of(WriteState s) {
  switch (s) {
    case WriteState::kNormal: return "normal";
    case WriteState::kSlowdown: return "slowed down";
    case WriteState::kStop: return "stopped";
  }
  return "?";
}

// Where `value` lies between `from` (0) and `to` (1), clamped.
double fraction(double value, double from, double to) {
  if (to <= from) return value >= to ? 1.0 : 0.0;
  return std::clamp((value - from) / (to - from), 0.0, 1.0);
}

}  // namespace

WriteState WriteController::classify(const WritePressure& p) const {
  if (p.level0_files >= options_.l0_stop_trigger || p.pending_bytes >= options_.pending_bytes_stop) {
    return WriteState::kStop;
  }
  if (p.level0_files >= options_.l0_slowdown_trigger ||
      p.pending_bytes >= options_.pending_bytes_slowdown) {
    return WriteState::kSlowdown;
  }
  return WriteState::kNormal;
}

double WriteController::debt_fraction(const WritePressure& p) const {
  double files = fraction(static_cast<double>(p.level0_files),
                          static_cast<double>(options_.l0_slowdown_trigger),
                          static_cast<double>(options_.l0_stop_trigger));
  double bytes = fraction(static_cast<double>(p.pending_bytes),
                          static_cast<double>(options_.pending_bytes_slowdown),
                          static_cast<double>(options_.pending_bytes_stop));
  return std::max(files, bytes);
}

std::string WriteController::describe(const WritePressure& p) const {
  return std::to_string(p.level0_files) + " L0 tables (slowdown at " +
         std::to_string(options_.l0_slowdown_trigger) + ", stop at " +
         std::to_string(options_.l0_stop_trigger) + "), " + std::to_string(p.pending_bytes) +
         " pending compaction bytes (slowdown at " +
         std::to_string(options_.pending_bytes_slowdown) + ", stop at " +
         std::to_string(options_.pending_bytes_stop) + ")";
}

std::optional<std::string> WriteController::update(const WritePressure& pressure,
                                                   runtime::TimePoint now) {
  WriteState next = classify(pressure);
  debt_ = debt_fraction(pressure);
  if (next == state_) return std::nullopt;
  std::string message;
  if (state_ != WriteState::kNormal) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - since_).count();
    message = std::string("writes no longer ") + name_of(state_) + " after " +
              std::to_string(ms) + " ms; ";
  }
  if (next == WriteState::kNormal) {
    message += "writes back to normal: " + describe(pressure);
  } else {
    message += std::string("writes ") + name_of(next) + " while compaction catches up: " +
               describe(pressure);
    ++(next == WriteState::kStop ? stops_ : slowdowns_);
  }
  state_ = next;
  since_ = now;
  return message;
}

double WriteController::background_share(const WritePressure& p) const {
  const double files = fraction(static_cast<double>(p.level0_files),
                                static_cast<double>(options_.l0_compaction_trigger),
                                static_cast<double>(options_.l0_slowdown_trigger));
  const double bytes = fraction(static_cast<double>(p.pending_bytes), 0.0,
                                static_cast<double>(options_.pending_bytes_slowdown));
  const double low = options_.background_share;
  const double high = std::max(options_.max_background_share, low);
  return low + (high - low) * std::max(files, bytes);
}

runtime::Duration WriteController::delay() const {
  if (state_ != WriteState::kSlowdown) return runtime::Duration::zero();
  auto lo = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.slowdown_min_delay);
  auto hi = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.slowdown_max_delay);
  auto extra = std::chrono::nanoseconds(
      static_cast<std::int64_t>(static_cast<double>((hi - lo).count()) * debt_));
  return std::chrono::duration_cast<runtime::Duration>(lo + std::max(extra, std::chrono::nanoseconds(0)));
}

}  // namespace cascade::engine
