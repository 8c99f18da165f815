// CompactionPicker: which compaction to run next (score-based leveled compaction).
//
// Scores. L0: its table count over l0_compaction_trigger. L1 .. L(last - 1): the level's
// bytes over its target size. The last level is never picked. A level with score >= 1
// needs compaction; pick() tries the levels from the highest score down and returns the
// first compaction it can form from tables no running compaction holds (`busy`).
//
// Which tables. L0: every L0 table (they may all overlap; one L0 compaction at a time, so
// none may be busy). L1+: round robin over the level's tables by key — the first table
// after the previous pick's largest key, wrapping around — skipping busy ones, extended to
// neighbours that share a boundary user key. Then the overlapping tables of the next level
// (none may be busy) and the grandparents (compaction.h states the invariants).
//
// Value-log GC (engine/vlog/vlog_relocation.h), below the score work: when no level needs
// compaction, a table whose oldest value-log reference (TableFile::oldest_vlog) is a file
// picked for relocation (files_to_relocate under `relocation`) is rewritten so its values
// move out of such files. An L0 table takes the usual L0 compaction; a table of L1+ is
// rewritten in place (output_level = level, with the neighbours sharing a boundary user
// key), the only way to reach the last level. Oldest file first, deepest level first. Each
// such job moves every pointer of its inputs out of the picked files, so its outputs are
// no target again, and the files it writes start with no record garbage (never picked):
// without new garbage from drops the targets run out.
//
// pick_range() is the manual form for compact_range: every table of `level` overlapping
// [begin, end] (nullopt: unbounded), with the same closure rules; busy says a table it
// needs is held by a running compaction (the caller waits and asks again).
//
// The picker only reads versions; its one state is the round-robin position per level.
// One shard; never suspends.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "engine/compaction/compaction.h"
#include "engine/compaction/compaction_options.h"
#include "engine/vlog/vlog_relocation.h"

namespace cascade::engine {

using BusyFiles = std::unordered_set<std::uint64_t>;

struct RangePick {
  enum class State : std::uint8_t { kNothing, kBusy, kPicked };
  State state = State::kNothing;
  Compaction compaction;
};

class CompactionPicker {
 public:
  CompactionPicker(const CompactionOptions& options, const LevelOptionsArray& levels,
                   RelocationPolicy relocation = {})
      : options_(options), levels_(levels), relocation_(relocation) {}

  double score(const Version& version, int level) const;
  // A level over its score, or a table to rewrite for value-log GC.
  bool needs_compaction(const Version& version) const;
  std::optional<Compaction> pick(const std::shared_ptr<const Version>& version,
                                 const BusyFiles& busy);
  RangePick pick_range(const std::shared_ptr<const Version>& version, int level,
                       const std::optional<std::string>& begin,
                       const std::optional<std::string>& end, const BusyFiles& busy) const;

 private:
  std::optional<Compaction> pick_level0(const std::shared_ptr<const Version>& version,
                                        const BusyFiles& busy) const;
  std::optional<Compaction> pick_level(const std::shared_ptr<const Version>& version,
                                       int level, const BusyFiles& busy);
  // Fills inputs[1] and the grandparents; false if an output-level table is busy.
  bool complete(Compaction& c, const BusyFiles& busy) const;
  // Value-log GC: tables (level, table) pointing first into a file picked for relocation,
  // in picking order.
  std::vector<std::pair<int, TableFilePtr>> relocation_targets(const Version& version) const;
  std::optional<Compaction> pick_relocation(const std::shared_ptr<const Version>& version,
                                            const BusyFiles& busy) const;

  const CompactionOptions& options_;
  const LevelOptionsArray& levels_;
  const RelocationPolicy relocation_;
  std::array<std::string, kNumLevels> next_key_;  // round robin: pick after this user key
};

// Adds to `files` every table of `level` sharing a user key with one already in it
// (level >= 1) or overlapping their hull (level 0), keeping the level's order.
void close_over_level(const Version& version, int level, std::vector<TableFilePtr>& files);

}  // namespace cascade::engine
