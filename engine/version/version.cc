// Version queries and apply_edit, which builds a new version and checks its invariants
// (listed in version.h).
#include "engine/version/version.h"

#include <algorithm>
#include <unordered_set>

namespace cascade::engine {

std::uint64_t Version::level_bytes(int level) const {
  std::uint64_t total = 0;
  for (const TableFilePtr& f : levels_[level]) total += f->file_size;
  return total;
}

std::vector<TableFilePtr> Version::overlapping_files(int level,
                                                     std::string_view smallest_user_key,
                                                     std::string_view largest_user_key) const {
  std::vector<TableFilePtr> out;
  for (const TableFilePtr& f : levels_[level]) {
    if (f->largest_user_key() < smallest_user_key) continue;
    if (f->smallest_user_key() > largest_user_key) continue;
    out.push_back(f);
  }
  return out;
}

TableFilePtr Version::find_file(int level, std::string_view internal_key) const {
  const std::vector<TableFilePtr>& files = levels_[level];
  auto it = std::partition_point(files.begin(), files.end(), [&](const TableFilePtr& f) {
    return compare_internal_keys(f->largest, internal_key) < 0;
  });
  // A lookup key (user key, snapshot) sorts before the table's older versions of that user
  // key, so the lower bound is checked on user keys.
  if (it == files.end() || extract_user_key(internal_key) < (*it)->smallest_user_key()) {
    return nullptr;
  }
  return *it;
}

void Version::add_live_files(std::set<std::uint64_t>& out) const {
  for (const auto& level : levels_) {
    for (const TableFilePtr& f : level) out.insert(f->file_number);
  }
  for (const auto& [number, vlog] : vlogs_) out.insert(number);
  out.insert(wal_segments_.begin(), wal_segments_.end());
}

VersionEdit Version::snapshot_edit() const {
  VersionEdit edit;
  edit.set_flushed_sequence(flushed_sequence_);
  edit.shard = shard_;
  edit.wal_layout = wal_layout_;
  for (int level = 0; level < kNumLevels; ++level) {
    for (const TableFilePtr& f : levels_[level]) edit.add_table(level, *f);
  }
  for (const auto& [number, vlog] : vlogs_) edit.add_vlog(vlog);
  for (std::uint64_t n : wal_segments_) edit.add_wal_segment(n);
  return edit;
}

bool Version::same_state(const Version& other) const {
  for (int level = 0; level < kNumLevels; ++level) {
    if (!std::equal(levels_[level].begin(), levels_[level].end(),
                    other.levels_[level].begin(), other.levels_[level].end(),
                    [](const TableFilePtr& a, const TableFilePtr& b) { return *a == *b; })) {
      return false;
    }
  }
  return vlogs_ == other.vlogs_ && wal_segments_ == other.wal_segments_ &&
         flushed_sequence_ == other.flushed_sequence_ && shard_ == other.shard_ &&
         wal_layout_ == other.wal_layout_;
}

std::string Version::debug_string() const {
  std::string s;
  for (int level = 0; level < kNumLevels; ++level) {
    if (levels_[level].empty()) continue;
    s += "L" + std::to_string(level) + " (" + std::to_string(levels_[level].size()) +
         " tables, " + std::to_string(level_bytes(level)) + " B):";
    for (const TableFilePtr& f : levels_[level]) {
      s += " " + std::to_string(f->file_number) + "[seq " +
           std::to_string(f->smallest_sequence) + ".." + std::to_string(f->largest_sequence) +
           "]";
    }
    s += "\n";
  }
  for (const auto& [number, v] : vlogs_) {
    s += "vlog " + std::to_string(number) + ": " + std::to_string(v.file_size) + " B, " +
         std::to_string(v.garbage_bytes) + " B garbage\n";
  }
  if (!wal_segments_.empty()) {
    s += "wal segments:";
    for (std::uint64_t n : wal_segments_) s += " " + std::to_string(n);
    s += "\n";
  }
  s += "flushed sequence: " + std::to_string(flushed_sequence_) + "\n";
  return s;
}

namespace {

Status invalid(std::string what) { return Status::invalid_argument("version edit " + what); }

bool newer_first(const TableFilePtr& a, const TableFilePtr& b) {
  if (a->largest_sequence != b->largest_sequence) {
    return a->largest_sequence > b->largest_sequence;
  }
  return a->file_number > b->file_number;
}

bool by_smallest_key(const TableFilePtr& a, const TableFilePtr& b) {
  return compare_internal_keys(a->smallest, b->smallest) < 0;
}

Status check_table(const TableFile& f) {
  if (f.smallest.size() < kTrailerSize || f.largest.size() < kTrailerSize) {
    return invalid("adds table " + std::to_string(f.file_number) +
                   " with a key shorter than an internal key's trailer");
  }
  if (compare_internal_keys(f.smallest, f.largest) > 0) {
    return invalid("adds table " + std::to_string(f.file_number) +
                   " whose smallest key sorts after its largest");
  }
  if (f.smallest_sequence > f.largest_sequence) {
    return invalid("adds table " + std::to_string(f.file_number) +
                   " whose smallest sequence is above its largest");
  }
  return Status::ok();
}

Status check_level_order(int level, const std::vector<TableFilePtr>& files) {
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (compare_internal_keys(files[i - 1]->largest, files[i]->smallest) >= 0) {
      return invalid("makes tables " + std::to_string(files[i - 1]->file_number) + " and " +
                     std::to_string(files[i]->file_number) + " overlap in L" +
                     std::to_string(level));
    }
  }
  return Status::ok();
}

using Levels = std::vector<TableFilePtr>[kNumLevels];

Status remove_tables(Levels& levels, const VersionEdit& edit) {
  for (const TableRemoved& r : edit.tables_removed) {
    auto& files = levels[r.level];
    auto it = std::find_if(files.begin(), files.end(),
                           [&](const TableFilePtr& f) { return f->file_number == r.file_number; });
    if (it == files.end()) {
      return invalid("removes table " + std::to_string(r.file_number) + " from L" +
                     std::to_string(r.level) + ", which does not hold it");
    }
    files.erase(it);
  }
  return Status::ok();
}

bool holds_table(const Levels& levels, std::uint64_t file_number) {
  for (const auto& files : levels) {
    for (const TableFilePtr& f : files) {
      if (f->file_number == file_number) return true;
    }
  }
  return false;
}

// Only the levels an edit adds to are re-sorted and re-checked: removing a table keeps a
// level sorted and non-overlapping.
Status add_tables(Levels& levels, const VersionEdit& edit) {
  if (edit.tables_added.empty()) return Status::ok();
  std::unordered_set<std::uint64_t> adding;
  bool touched[kNumLevels] = {};
  for (const TableAdded& a : edit.tables_added) {
    if (Status s = check_table(a.file); !s) return s;
    if (!adding.insert(a.file.file_number).second || holds_table(levels, a.file.file_number)) {
      return invalid("adds table " + std::to_string(a.file.file_number) + " twice");
    }
    levels[a.level].push_back(std::make_shared<const TableFile>(a.file));
    touched[a.level] = true;
  }
  if (touched[0]) std::stable_sort(levels[0].begin(), levels[0].end(), newer_first);
  for (int level = 1; level < kNumLevels; ++level) {
    if (!touched[level]) continue;
    std::stable_sort(levels[level].begin(), levels[level].end(), by_smallest_key);
    if (Status s = check_level_order(level, levels[level]); !s) return s;
  }
  return Status::ok();
}

Status apply_vlogs(std::map<std::uint64_t, VlogFile>& vlogs, const VersionEdit& edit) {
  for (const VlogFile& v : edit.vlogs_added) {
    if (v.garbage_bytes > v.file_size) {
      return invalid("adds value log " + std::to_string(v.file_number) +
                     " with more garbage than bytes");
    }
    if (!vlogs.emplace(v.file_number, v).second) {
      return invalid("adds value log " + std::to_string(v.file_number) + " twice");
    }
  }
  for (const VlogGarbage& g : edit.vlog_garbage) {
    auto it = vlogs.find(g.file_number);
    if (it == vlogs.end()) {
      return invalid("counts garbage in value log " + std::to_string(g.file_number) +
                     ", which is not live");
    }
    if (g.more_garbage_bytes > it->second.live_bytes()) {
      return invalid("counts more garbage than value log " + std::to_string(g.file_number) +
                     " has live bytes");
    }
    it->second.garbage_bytes += g.more_garbage_bytes;
  }
  for (std::uint64_t n : edit.vlogs_removed) {
    if (vlogs.erase(n) == 0) {
      return invalid("removes value log " + std::to_string(n) + ", which is not live");
    }
  }
  return Status::ok();
}

Status apply_wal_segments(std::set<std::uint64_t>& segments, const VersionEdit& edit) {
  for (std::uint64_t n : edit.wal_segments_removed) {
    if (segments.erase(n) == 0) {
      return invalid("removes WAL segment " + std::to_string(n) + ", which is not live");
    }
  }
  for (std::uint64_t n : edit.wal_segments_added) {
    if (!segments.insert(n).second) {
      return invalid("adds WAL segment " + std::to_string(n) + " twice");
    }
  }
  return Status::ok();
}

}  // namespace

Status apply_edit_in_place(Version& v, const VersionEdit& edit) {
  if (Status s = remove_tables(v.levels_, edit); !s) return s;
  if (Status s = add_tables(v.levels_, edit); !s) return s;
  if (Status s = apply_vlogs(v.vlogs_, edit); !s) return s;
  if (Status s = apply_wal_segments(v.wal_segments_, edit); !s) return s;
  if (edit.flushed_sequence) v.flushed_sequence_ = *edit.flushed_sequence;
  if (edit.shard) v.shard_ = edit.shard;
  if (edit.wal_layout) v.wal_layout_ = edit.wal_layout;
  return Status::ok();
}

Result<std::shared_ptr<const Version>> apply_edit(const Version& base, const VersionEdit& edit) {
  auto v = std::make_shared<Version>(base);
  if (Status s = apply_edit_in_place(*v, edit); !s) return s;
  return std::shared_ptr<const Version>(std::move(v));
}

}  // namespace cascade::engine
