// The order-statistics index of a sorted set: counts of score-index entries over a
// hierarchy of separators, so a rank (ZRANK) and the entry at a rank (ZRANGE by index) cost
// O(log N) small reads instead of a walk over the entries before it.
//
// Records (byte layout in src/types/FORMAT.md, "Collections"), beside the zset's entries:
//
//   prefix | 0x02 | level (u8) | separator -> empty            (the separator)
//   prefix | 0x03 | level (u8) | separator -> fixed64 LE count  (its count)
//
// A separator is a string in the score index's suffix space (sortable score | member, as
// after the 0x01 tag); the empty separator is every level's sentinel, below every entry.
// The separators of level L, in order, cut the score index into ranges
// [separator, next separator of level L); the count is the number of live index entries
// in that range. Invariants, for every level L < height (B: the bucket size, F: the fanout,
// RankShape; 64 and 16 in the server):
//   - the sentinel is a separator of level L, and the counts of level L sum to the size;
//   - the separators of level L+1 are separators of level L too, so a range of level L+1
//     is the union of the level-L ranges whose separators lie in it: its "node", holding
//     at most 2F of them; the top level (height - 1) has at most 2F separators;
//   - a level-0 range (a bucket) holds at most 2B entries, and at least one unless its
//     separator is the sentinel;
//   - every separator has its count record and every count record its separator.
// No record exists at a level >= height. The height lives in the zset's header
// (CollectionHeader::rank_height; 0: no index: the set was never asked a rank far from its
// ends, and is walked instead). The index is built on demand, by one scan (build()), when
// a rank operation would walk more than RankShape::walk entries (zset.h), and from then on
// maintained by every add and remove: until then a write to the set costs nothing here.
//
// Why counts apart from separators: every add or remove rewrites one count per level, so
// the upper counts are rewritten on almost every write and pile up versions in the
// engine's memtable until a flush. An engine cursor stepping over such a key walks all its
// versions, but a get lands on the newest at once. So cursors only ever walk separators
// (written once, when a range splits, and deleted once, when it merges) and bucket entries,
// and counts are read by get.
//
// Rank of an entry x: at the top level sum the counts of the separators before the last one
// <= x, then do the same at each lower level within that separator's node, then walk the
// level-0 bucket from its separator to x: at most 2F gets per level and 2B entries. The
// entry at rank r descends the same way.
//
// Adding an entry adds 1 to the count holding it at every level (the last separator <= it,
// one reverse seek per level). A bucket over 2B entries splits at its median entry (the new
// separator is the shortest prefix of that entry above the entry before it, and takes the
// upper half's count); a node over 2F separators splits at its median separator, which is
// promoted to the level above; a top level over 2F grows a new level whose sentinel holds
// the whole size and is then split as a node.
//
// Removing an entry subtracts 1 along the same path. A bucket left empty, or below B/2
// entries with a predecessor it fits into (together at most B), is merged into its
// predecessor: its separator leaves every level it belongs to, each of its counts joining
// the predecessor's at that level (a sentinel bucket below B/2 takes in its successor the
// same way); a node that grew over 2F by taking in a removed separator's node splits as
// above. Nodes above level 0 are never merged and the height never shrinks: a read stays
// bounded by 2F counts per level and a height of log_F of the largest size the set ever
// had. Every non-sentinel bucket holds an entry, so no level has more separators than the
// set has members (plus one).
//
// Everything goes through the collection's StagedWrites, so a command (or MULTI/EXEC)
// reads its own earlier writes. Calling rules: those of the Collection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/result.h"
#include "src/types/collection.h"

namespace cascade::types {

// B and F of the file comment, and the walk limit that builds the index (zset.h): tests
// make them small to reach many levels quickly.
struct RankShape {
  std::size_t bucket = 64;  // level-0 ranges split above 2B entries
  std::size_t fanout = 16;  // nodes and the top level split above 2F separators
  // A set without an index answers a rank at most this far from its nearer end by walking
  // (so ZRANGE 0 9, or ZREVRANK of a leaderboard's top, never builds); a farther one
  // builds the index.
  std::size_t walk = 1024;
};

// A cursor over the score index narrowed to the header's bounds (ZSet::index()).
StagedWrites::Cursor score_index(Collection& c);

class ZSetRankIndex {
 public:
  ZSetRankIndex(Collection& c, RankShape shape) : c_(c), shape_(shape) {}

  bool built() const { return c_.header().rank_height > 0; }
  // Builds the index over the score index as it stands (requires !built()): one scan.
  Status build();

  // After the index entry with suffix `entry` (sortable score | member) was staged / its
  // deletion staged. Requires built().
  Status added(std::string_view entry);
  Status removed(std::string_view entry);

  // The number of live index entries below suffix `entry`.
  Result<std::uint64_t> rank_of(std::string_view entry);
  // Positions `index` (a ZSet::index() cursor) on the entry of rank `rank` (< size):
  // Corruption if the index counts more entries than there are.
  Status seek_rank(StagedWrites::Cursor& index, std::uint64_t rank);

  // Verifies every invariant of the file comment against the entries (a whole scan; for
  // tests): Corruption naming the first one broken.
  Status check();

 private:
  std::uint8_t height() const { return c_.header().rank_height; }
  std::string separator_key(std::uint8_t level, std::string_view separator) const;
  std::string count_key(std::uint8_t level, std::string_view separator) const;
  std::string entry_key(std::string_view entry) const;
  // The cursor over the separators, made once per ZSetRankIndex: making an engine iterator
  // costs more than the few seeks of one add. Every use seeks before it reads, so the
  // writes staged meanwhile are seen.
  StagedWrites::Cursor& separators();
  Result<std::uint64_t> count(std::uint8_t level, std::string_view separator);
  void put_count(std::uint8_t level, std::string_view separator, std::uint64_t count);
  void add_separator(std::uint8_t level, std::string_view separator, std::uint64_t count);
  // The separator of `level` holding `entry`: the last one <= entry (< entry if strict).
  Result<std::string> holder(StagedWrites::Cursor& c, std::uint8_t level,
                             std::string_view entry, bool strict = false);
  // The separator after `separator` at `level` (nullopt: it is the level's last).
  Result<std::optional<std::string>> next_of(StagedWrites::Cursor& c, std::uint8_t level,
                                             std::string_view separator);
  // The separators of `level` from `lo` (one of them) up to `hi` (exclusive; nullopt: the
  // level's end).
  Status read_range(StagedWrites::Cursor& c, std::uint8_t level, std::string_view lo,
                    const std::optional<std::string>& hi, std::vector<std::string>& out);
  // Splits `separator`'s range at `level` if it holds too much, then its parent's.
  Status split_if_full(std::uint8_t level, std::string separator);
  // Removes a non-sentinel separator from every level holding it (merging its counts into
  // its predecessors').
  Status remove_separator(std::string separator);

  Collection& c_;
  const RankShape shape_;
  std::optional<StagedWrites::Cursor> separators_;
};

// The shortest prefix of `entry` above `before` (before < entry): the separator that
// starts a range at `entry`.
std::string shortest_separator(std::string_view before, std::string_view entry);

}  // namespace cascade::types
