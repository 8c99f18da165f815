// OpStats merging, percentiles and the db_bench-style report (op_stats.h).
#include "tools/bench/op_stats.h"

#include <algorithm>
#include <cstdio>

namespace cascade::bench {

void OpStats::merge(const OpStats& other) {
  if (samples_.empty() && busy_seconds_ == 0) {
    start_ = other.start_;
    finish_ = other.finish_;
  } else {
    start_ = std::min(start_, other.start_);
    finish_ = std::max(finish_, other.finish_);
  }
  busy_seconds_ += other.busy_seconds_;
  bytes_ += other.bytes_;
  found_ += other.found_;
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

double OpStats::wall_seconds() const {
  return std::chrono::duration<double>(finish_ - start_).count();
}

double OpStats::percentile_micros(double p) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least p% of the samples at or below it.
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples_.size()) + 0.5);
  rank = std::clamp<std::size_t>(rank, 1, samples_.size());
  return static_cast<double>(samples_[rank - 1]) / 1000.0;
}

std::string OpStats::report(const std::string& name, const std::string& extra) {
  const double seconds = wall_seconds();
  const double n = static_cast<double>(std::max<std::uint64_t>(ops(), 1));
  char line[512];
  int len = std::snprintf(line, sizeof line,
                          "%-12s : %11.3f micros/op %ld ops/sec %.3f seconds %lu operations;",
                          name.c_str(), busy_seconds_ * 1e6 / n,
                          static_cast<long>(seconds > 0 ? n / seconds : 0), seconds,
                          static_cast<unsigned long>(ops()));
  std::string out(line, static_cast<std::size_t>(len));
  if (bytes_ > 0) {
    std::snprintf(line, sizeof line, " %6.1f MB/s", seconds > 0 ? bytes_ / 1048576.0 / seconds : 0);
    out += line;
  }
  if (!extra.empty()) out += " " + extra;
  std::snprintf(line, sizeof line,
                "\nPercentiles: P50: %.2f P75: %.2f P99: %.2f P99.9: %.2f P99.99: %.2f\n",
                percentile_micros(50), percentile_micros(75), percentile_micros(99),
                percentile_micros(99.9), percentile_micros(99.99));
  out += line;
  return out;
}

std::string OpStats::side_report(const std::string& label) {
  const double seconds = wall_seconds();
  char line[512];
  int len = std::snprintf(line, sizeof line,
                          "%s: %lu ops, %ld ops/sec, %.1f MB/s; Percentiles: P50: %.2f "
                          "P99: %.2f P99.9: %.2f\n",
                          label.c_str(), static_cast<unsigned long>(ops()),
                          static_cast<long>(seconds > 0 ? ops() / seconds : 0),
                          seconds > 0 ? bytes_ / 1048576.0 / seconds : 0, percentile_micros(50),
                          percentile_micros(99), percentile_micros(99.9));
  return std::string(line, static_cast<std::size_t>(len));
}

}  // namespace cascade::bench
