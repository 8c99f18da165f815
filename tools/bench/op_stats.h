// OpStats: what one benchmark's threads measured, and its report line.
//
// Each thread (fiber) records every op's latency in nanoseconds; the samples are kept
// (8 bytes an op: 8 MB for a million), so percentiles are exact, not bucketed. Merged
// figures follow db_bench's definitions so the two tools' lines compare one to one:
//   ops/sec     total ops / wall time from the first thread's start to the last's end
//   micros/op   the threads' summed busy time / total ops (the mean latency per thread)
//   MB/s        bytes (key + value of each op that moved one) / 2^20 / wall time
//   P50, P99    over every op's latency, in microseconds
// The report is db_bench's line layout, "NAME : X micros/op Y ops/sec Z seconds N
// operations; M MB/s", then "Percentiles: P50: a P75: b P99: c P99.9: d", which
// scripts/bench-engine.sh parses for both tools.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "src/runtime/timer_queue.h"

namespace cascade::bench {

class OpStats {
 public:
  // Before start(): room for `ops` samples, so recording never grows the vector (a copy of
  // every sample so far, and fresh pages to fault in) inside the timed loop.
  void reserve(std::int64_t ops) {
    samples_.reserve(static_cast<std::size_t>(std::max<std::int64_t>(ops, 0)));
  }
  void start() { start_ = runtime::Clock::now(); }
  void finish() {
    finish_ = runtime::Clock::now();
    busy_seconds_ = std::chrono::duration<double>(finish_ - start_).count();
  }
  void record(runtime::Duration latency, std::uint64_t bytes) {
    samples_.push_back(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()));
    bytes_ += bytes;
  }
  void add_found(std::uint64_t n = 1) { found_ += n; }

  void merge(const OpStats& other);

  std::uint64_t ops() const { return samples_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t found() const { return found_; }
  double wall_seconds() const;
  // Sorts the samples; p in [0, 100].
  double percentile_micros(double p);

  // The two report lines; `extra` goes after the MB/s (db_bench: "(x of y found)").
  std::string report(const std::string& name, const std::string& extra);
  // One line for ops that ran beside the benchmark's own (readwhilewriting's writer):
  // "LABEL: N ops, X ops/sec, Y MB/s; Percentiles: P50: a P99: b P99.9: c". Not in
  // db_bench's "NAME :" layout, so a parser of those lines does not take it for one.
  std::string side_report(const std::string& label);

 private:
  runtime::TimePoint start_{};
  runtime::TimePoint finish_{};
  double busy_seconds_ = 0;  // summed over merged threads
  std::uint64_t bytes_ = 0;
  std::uint64_t found_ = 0;
  std::vector<std::uint64_t> samples_;
  bool sorted_ = false;
};

}  // namespace cascade::bench
