// Version: an immutable snapshot of the live files of one engine: tables per level,
// value-log files with their garbage, WAL segments, and how far the WAL is flushed.
//
// Invariants, checked by apply_edit whenever a version is made (an edit that would break
// them is refused, and a manifest holding one is Corruption):
// - A table file number appears at most once in the whole version.
// - Level 0 tables may overlap; they are ordered newest first (largest_sequence
//   descending, then file number descending), the order a lookup must probe them in.
// - Level 1+ tables are sorted by smallest key and do not overlap: each table's largest
//   internal key sorts before the next table's smallest. (Versions of one user key may
//   straddle two adjacent tables; internal keys still order them.)
// - Every table's smallest internal key sorts at or before its largest, and
//   smallest_sequence <= largest_sequence.
// - A value-log file's garbage never exceeds its size.
//
// Lifetime: versions are shared (std::shared_ptr<const Version>); an iterator or a
// snapshot holds the version it reads, and the VersionSet counts every version still held
// as live, so the files it names are not deleted under a reader. Versions are used by the
// fibers of one shard only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/version/version_edit.h"
#include "src/runtime/result.h"

namespace cascade::engine {

using TableFilePtr = std::shared_ptr<const TableFile>;

class Version {
 public:
  const std::vector<TableFilePtr>& files(int level) const { return levels_[level]; }
  std::size_t num_files(int level) const { return levels_[level].size(); }
  std::uint64_t level_bytes(int level) const;

  // Tables of `level` whose user-key range intersects [smallest_user_key,
  // largest_user_key] (both inclusive), in the level's order.
  std::vector<TableFilePtr> overlapping_files(int level, std::string_view smallest_user_key,
                                              std::string_view largest_user_key) const;

  // Level 1+ only: the one table that may hold `internal_key` (the first whose largest
  // internal key sorts at or after it, if its smallest user key is not above the key's),
  // or null. Binary search.
  TableFilePtr find_file(int level, std::string_view internal_key) const;

  const std::map<std::uint64_t, VlogFile>& vlog_files() const { return vlogs_; }
  const std::set<std::uint64_t>& wal_segments() const { return wal_segments_; }
  SequenceNumber flushed_sequence() const { return flushed_sequence_; }
  const std::optional<ShardIdentity>& shard() const { return shard_; }
  const std::optional<WalLayout>& wal_layout() const { return wal_layout_; }

  // Adds the number of every file this version names (tables, value logs, WAL segments).
  void add_live_files(std::set<std::uint64_t>& out) const;

  // An edit that rebuilds this version from an empty one (the first record of a manifest).
  VersionEdit snapshot_edit() const;

  // Same files with the same metadata and the same scalars.
  bool same_state(const Version& other) const;
  std::string debug_string() const;

 private:
  friend Status apply_edit_in_place(Version& version, const VersionEdit& edit);

  std::vector<TableFilePtr> levels_[kNumLevels];
  std::map<std::uint64_t, VlogFile> vlogs_;
  std::set<std::uint64_t> wal_segments_;
  SequenceNumber flushed_sequence_ = 0;
  std::optional<ShardIdentity> shard_;
  std::optional<WalLayout> wal_layout_;
};

// The version `base` + `edit`. Within an edit, table removals apply before additions (so a
// table may move between levels), value-log additions before garbage before removals.
// InvalidArgument naming the violated invariant; `base` is never changed.
Result<std::shared_ptr<const Version>> apply_edit(const Version& base, const VersionEdit& edit);

// The same, changing `version` itself (recovery replays a whole manifest this way without
// copying a version per record). On failure `version` is left partly changed.
Status apply_edit_in_place(Version& version, const VersionEdit& edit);

}  // namespace cascade::engine
