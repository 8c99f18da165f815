// Compaction: one picked unit of work, from `level` into `output_level` = level + 1; or,
// for a value-log relocation of tables of a level >= 1 (`relocation`), back into `level`
// itself (inputs[1] then empty): the rewrite moves their values out of value-log files
// picked for GC without pushing the data down (the last level can do nothing else).
//
// inputs[0] are tables of `level`, inputs[1] the tables of output_level whose user-key
// ranges overlap them; grandparents are the tables of output_level + 1 overlapping the
// whole input range (the output cutter keeps each output's overlap with them bounded).
//
// Invariants the picker guarantees, and the job and the version edit rely on:
// - When level is 0, inputs[0] holds every L0 table overlapping any of them (so no older
//   version of a key stays in L0 above a newer one moved down).
// - When level >= 1, no table of `level` left out shares a user key with inputs[0] (a user
//   key whose versions straddle two adjacent tables moves down whole).
// - inputs[1] is every output_level table overlapping the user-key hull of inputs[0], so
//   the outputs, cut only between user keys, overlap no other table of output_level.
// - No input is part of another running compaction (the DB's set of busy files).
//
// A trivial move (one input table, nothing to merge with, little grandparent overlap) is
// done by a version edit alone: the same file changes level.
//
// DeeperLevels answers "does any level below the output hold this user key's range?" for
// keys given in ascending order, in amortized O(1) per key: a tombstone (or a filtered
// entry) can only disappear when nothing older can be underneath it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/version/version.h"
#include "engine/version/version_edit.h"

namespace cascade::engine {

struct Compaction {
  int level = 0;
  int output_level = 1;
  std::vector<TableFilePtr> inputs[2];
  std::vector<TableFilePtr> grandparents;
  std::shared_ptr<const Version> version;  // the version the inputs were picked from
  bool manual = false;
  // Picked for value-log GC (compaction_picker.h): never a trivial move, which would
  // rewrite nothing.
  bool relocation = false;
  std::uint64_t max_grandparent_overlap = 0;  // bytes

  std::uint64_t input_bytes() const;
  std::vector<std::uint64_t> input_file_numbers() const;
  bool is_trivial_move() const;
  // The user-key hull of every input.
  std::string smallest_user_key() const;
  std::string largest_user_key() const;
  // Removes every input from its level.
  void add_input_removals(VersionEdit& edit) const;
  // A trivial move's whole edit: the one input leaves `level` and joins output_level.
  void add_trivial_move(VersionEdit& edit) const;
  std::string debug_string() const;
};

class DeeperLevels {
 public:
  DeeperLevels(const Version& version, int output_level);
  // Keys must come in ascending order across calls.
  bool may_hold(std::string_view user_key);

 private:
  const Version& version_;
  int output_level_;
  std::size_t cursor_[kNumLevels] = {};
};

}  // namespace cascade::engine
