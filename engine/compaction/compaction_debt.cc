// Compaction debt and live-data estimates (compaction_debt.h).
#include "engine/compaction/compaction_debt.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace cascade::engine {

std::uint64_t pending_compaction_bytes(const Version& version, const LevelOptionsArray& levels,
                                       std::size_t l0_compaction_trigger) {
  double pending = 0;
  double incoming = 0;
  if (version.num_files(0) >= std::max<std::size_t>(1, l0_compaction_trigger)) {
    incoming = static_cast<double>(version.level_bytes(0));
    pending += incoming;
  }
  for (int level = 1; level < kNumLevels - 1; ++level) {
    double size = static_cast<double>(version.level_bytes(level)) + incoming;
    double target = static_cast<double>(levels[level].target_size);
    incoming = 0;
    if (target == 0 || size <= target) continue;
    double excess = size - target;
    double next = static_cast<double>(version.level_bytes(level + 1));
    pending += excess * (1.0 + next / size);
    incoming = excess;
  }
  return static_cast<std::uint64_t>(pending);
}

std::uint64_t estimate_live_bytes(const Version& version) {
  // Counted ranges, kept sorted by their smallest key and disjoint.
  std::vector<std::pair<std::string, std::string>> counted;
  std::uint64_t live = 0;
  for (int level = kNumLevels - 1; level >= 0; --level) {
    std::vector<std::pair<std::string, std::string>> added;
    for (const TableFilePtr& f : version.files(level)) {
      std::string_view lo = f->smallest_user_key(), hi = f->largest_user_key();
      auto it = std::lower_bound(counted.begin(), counted.end(), lo,
                                 [](const auto& range, std::string_view key) {
                                   return range.second < key;
                                 });
      if (it != counted.end() && it->first <= hi) continue;  // overlaps a counted range
      live += f->file_size;
      added.emplace_back(std::string(lo), std::string(hi));
    }
    // Tables of one level are counted independently of each other (L0 tables overlap).
    counted.insert(counted.end(), added.begin(), added.end());
    std::sort(counted.begin(), counted.end());
    // Merge overlaps so the ranges stay disjoint for the binary search.
    std::vector<std::pair<std::string, std::string>> merged;
    for (auto& r : counted) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(std::move(r));
      }
    }
    counted = std::move(merged);
  }
  return live;
}

}  // namespace cascade::engine
