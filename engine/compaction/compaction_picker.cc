// Score-based picking (compaction_picker.h).
#include "engine/compaction/compaction_picker.h"

#include <algorithm>

namespace cascade::engine {

namespace {

bool any_busy(const std::vector<TableFilePtr>& files, const BusyFiles& busy) {
  return std::any_of(files.begin(), files.end(),
                     [&](const TableFilePtr& f) { return busy.contains(f->file_number); });
}

std::pair<std::string, std::string> hull(const std::vector<TableFilePtr>& files) {
  std::string_view lo = files.front()->smallest_user_key();
  std::string_view hi = files.front()->largest_user_key();
  for (const TableFilePtr& f : files) {
    lo = std::min(lo, f->smallest_user_key());
    hi = std::max(hi, f->largest_user_key());
  }
  return {std::string(lo), std::string(hi)};
}

}  // namespace

void close_over_level(const Version& version, int level, std::vector<TableFilePtr>& files) {
  if (files.empty()) return;
  if (level == 0) {
    // A table overlapping the hull may widen it: repeat until nothing more joins.
    while (true) {
      auto [lo, hi] = hull(files);
      std::vector<TableFilePtr> next = version.overlapping_files(0, lo, hi);
      if (next.size() == files.size()) break;
      files = std::move(next);
    }
    return;
  }
  const std::vector<TableFilePtr>& all = version.files(level);
  auto first = std::find(all.begin(), all.end(), files.front());
  auto last = std::find(all.begin(), all.end(), files.back());
  if (first == all.end() || last == all.end()) return;
  while (first != all.begin() &&
         (*(first - 1))->largest_user_key() == (*first)->smallest_user_key()) {
    --first;
  }
  while (last + 1 != all.end() &&
         (*(last + 1))->smallest_user_key() == (*last)->largest_user_key()) {
    ++last;
  }
  files.assign(first, last + 1);
}

double CompactionPicker::score(const Version& version, int level) const {
  if (level == 0) {
    return static_cast<double>(version.num_files(0)) /
           static_cast<double>(std::max<std::size_t>(1, options_.l0_compaction_trigger));
  }
  if (level >= kNumLevels - 1 || levels_[level].target_size == 0) return 0;
  return static_cast<double>(version.level_bytes(level)) /
         static_cast<double>(levels_[level].target_size);
}

bool CompactionPicker::needs_compaction(const Version& version) const {
  for (int level = 0; level < kNumLevels - 1; ++level) {
    if (score(version, level) >= 1) return true;
  }
  return !relocation_targets(version).empty();
}

std::optional<Compaction> CompactionPicker::pick(const std::shared_ptr<const Version>& version,
                                                 const BusyFiles& busy) {
  std::vector<std::pair<double, int>> order;
  for (int level = 0; level < kNumLevels - 1; ++level) {
    double s = score(*version, level);
    if (s >= 1) order.emplace_back(s, level);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [s, level] : order) {
    auto c = level == 0 ? pick_level0(version, busy) : pick_level(version, level, busy);
    if (c) return c;
  }
  return pick_relocation(version, busy);
}

std::vector<std::pair<int, TableFilePtr>> CompactionPicker::relocation_targets(
    const Version& version) const {
  std::vector<std::pair<int, TableFilePtr>> out;
  if (version.vlog_files().empty()) return out;
  const std::set<std::uint64_t> picked = files_to_relocate(version, relocation_);
  if (picked.empty()) return out;
  for (int level = kNumLevels - 1; level >= 0; --level) {
    for (const TableFilePtr& t : version.files(level)) {
      if (t->oldest_vlog != 0 && picked.contains(t->oldest_vlog)) out.emplace_back(level, t);
    }
  }
  // Oldest file first; deepest level first within a file (stable: the loop's order).
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second->oldest_vlog < b.second->oldest_vlog;
  });
  return out;
}

std::optional<Compaction> CompactionPicker::pick_relocation(
    const std::shared_ptr<const Version>& version, const BusyFiles& busy) const {
  for (const auto& [level, t] : relocation_targets(*version)) {
    if (busy.contains(t->file_number)) continue;
    if (level == 0) {
      auto c = pick_level0(version, busy);
      if (!c) continue;
      c->relocation = true;
      return c;
    }
    Compaction c;
    c.level = level;
    c.output_level = level;
    c.version = version;
    c.relocation = true;
    c.inputs[0] = {t};
    close_over_level(*version, level, c.inputs[0]);
    if (any_busy(c.inputs[0], busy)) continue;
    if (level + 1 < kNumLevels) {
      auto [lo, hi] = hull(c.inputs[0]);
      c.grandparents = version->overlapping_files(level + 1, lo, hi);
    }
    c.max_grandparent_overlap =
        options_.max_grandparent_overlap_factor * levels_[level].target_file_size;
    return c;
  }
  return std::nullopt;
}

std::optional<Compaction> CompactionPicker::pick_level0(
    const std::shared_ptr<const Version>& version, const BusyFiles& busy) const {
  const std::vector<TableFilePtr>& l0 = version->files(0);
  if (l0.empty() || any_busy(l0, busy)) return std::nullopt;
  Compaction c;
  c.level = 0;
  c.output_level = 1;
  c.version = version;
  c.inputs[0] = l0;
  if (!complete(c, busy)) return std::nullopt;
  return c;
}

std::optional<Compaction> CompactionPicker::pick_level(
    const std::shared_ptr<const Version>& version, int level, const BusyFiles& busy) {
  const std::vector<TableFilePtr>& files = version->files(level);
  if (files.empty()) return std::nullopt;
  // The first table entirely after the previous pick, then round robin.
  std::size_t start = 0;
  while (start < files.size() && !next_key_[level].empty() &&
         files[start]->smallest_user_key() <= next_key_[level]) {
    ++start;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const TableFilePtr& f = files[(start + i) % files.size()];
    if (busy.contains(f->file_number)) continue;
    Compaction c;
    c.level = level;
    c.output_level = level + 1;
    c.version = version;
    c.inputs[0] = {f};
    close_over_level(*version, level, c.inputs[0]);
    if (any_busy(c.inputs[0], busy) || !complete(c, busy)) continue;
    next_key_[level] = std::string(c.inputs[0].back()->largest_user_key());
    return c;
  }
  return std::nullopt;
}

bool CompactionPicker::complete(Compaction& c, const BusyFiles& busy) const {
  auto [lo, hi] = hull(c.inputs[0]);
  c.inputs[1] = c.version->overlapping_files(c.output_level, lo, hi);
  if (any_busy(c.inputs[1], busy)) return false;
  if (!c.inputs[1].empty()) {
    auto [lo1, hi1] = hull(c.inputs[1]);
    lo = std::min(lo, lo1);
    hi = std::max(hi, hi1);
  }
  c.grandparents.clear();
  if (c.output_level + 1 < kNumLevels) {
    c.grandparents = c.version->overlapping_files(c.output_level + 1, lo, hi);
  }
  c.max_grandparent_overlap =
      options_.max_grandparent_overlap_factor * levels_[c.output_level].target_file_size;
  return true;
}

RangePick CompactionPicker::pick_range(const std::shared_ptr<const Version>& version, int level,
                                       const std::optional<std::string>& begin,
                                       const std::optional<std::string>& end,
                                       const BusyFiles& busy) const {
  RangePick out;
  std::vector<TableFilePtr> files;
  for (const TableFilePtr& f : version->files(level)) {
    if (begin && f->largest_user_key() < *begin) continue;
    if (end && f->smallest_user_key() > *end) continue;
    files.push_back(f);
  }
  if (files.empty()) return out;
  close_over_level(*version, level, files);
  Compaction& c = out.compaction;
  c.level = level;
  c.output_level = level + 1;
  c.version = version;
  c.manual = true;
  c.inputs[0] = std::move(files);
  bool busy_input = any_busy(c.inputs[0], busy) || (level == 0 && any_busy(version->files(0), busy));
  out.state = busy_input || !complete(c, busy) ? RangePick::State::kBusy
                                               : RangePick::State::kPicked;
  return out;
}

}  // namespace cascade::engine
