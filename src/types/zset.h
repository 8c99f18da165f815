// Sorted sets on the engine: a Collection of type kZSet (collection.h) seen as members with
// scores. Each member has two entries, written and deleted together:
//
//   prefix | 0x00 | member                 -> the score (append_score_value: bits, LE)
//   prefix | 0x01 | sortable score | member -> empty   (the score index)
//
// so a member's score is one get, and the index lists members in Redis's order, by score
// and then bytewise by member, which makes a range by score one seek. (Byte layout:
// src/types/FORMAT.md, "Collections".)
//
// Scores are stored with -0 turned into +0: Redis's small sorted sets (listpack) store a
// score as its shortest text, where -0 reads back as 0, so ZSCORE answers "0" for a member
// added with -0; doing so always keeps one answer whatever the size.
//
// Ranks (ZRANK, ZRANGE by index, ZREMRANGEBYRANK...) come from an order-statistics index
// kept beside the score index once the set holds over 2B members (B the rank index's bucket
// size, 64 in the server): counted separators in levels, prefix | 0x02 | level | separator
// and prefix | 0x03 | level | separator -> count (zset_rank.h has the structure and its
// invariants; FORMAT.md the bytes), so rank_of() and seek_rank() cost O(log N) reads. set() and remove() keep it, and every writer of
// score-index entries goes through them, or (a new version filled in bulk: RESTORE,
// *STORE) writes the entries with the index deferred and builds it once at the end. A
// smaller set has no index (header rank_height 0) and is walked from the nearer end.
//
// Calling rules: those of the Collection (its shard's fibers; reads may suspend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/runtime/result.h"
#include "src/types/collection.h"
#include "src/types/zset_rank.h"

namespace cascade::types {

class ZSet {
 public:
  // `rank_shape`: the rank index's B and F (tests make them small to reach many levels).
  explicit ZSet(Collection& c, RankShape rank_shape = {})
      : c_(c), rank_(c, rank_shape), rank_shape_(rank_shape) {}

  Collection& coll() { return c_; }
  std::uint64_t size() const { return c_.size(); }

  // The member's score, nullopt when it is not a member.
  Result<std::optional<double>> score(std::string_view member);
  // Makes `member`'s score `score` (not NaN): `old` is its current score (nullopt when it
  // is not yet a member; the size grows). Stages both entries and the rank index's
  // changes (building it when the set outgrows 2B members).
  [[nodiscard]] Status set(std::string_view member, double score, std::optional<double> old);
  // Removes a member whose current score is `score` (both entries); the size shrinks.
  [[nodiscard]] Status remove(std::string_view member, double score);
  // For a set created in this command and filled in bulk: set() leaves the rank index
  // alone until finish_rank_index(), which builds it (once, by one scan) if the set is
  // large enough. Also for entries staged directly (RESTORE).
  void defer_rank_index() { rank_deferred_ = true; }
  [[nodiscard]] Status finish_rank_index();
  bool has_rank_index() const { return c_.header().rank_height > 0; }
  // Verifies the rank index against the entries (a whole scan; tests).
  [[nodiscard]] Status check_rank_index() { return rank_.check(); }
  // After removing every index entry before `next` (an index key, the first one left),
  // or after `next` (the last one left): walks from that end start at `next`.
  void removed_below(std::string_view next);
  void removed_above(std::string_view next);

  // The score index: keys are whole engine keys; decode them with the helpers below. Its
  // range is narrowed to the header's bounds (CollectionHeader::index_low/index_high), so
  // seek_to_first and seek_to_last land on live entries after pops.
  StagedWrites::Cursor index();
  // The member entries, in member order.
  StagedWrites::Cursor members() { return c_.cursor(std::string_view(&kZSetMemberTag, 1)); }

  // The index key of (score, member); member empty gives the first key of that score.
  std::string index_key(double score, std::string_view member = {}) const;
  // The first index key after every entry of `score`.
  std::string index_key_after(double score) const;
  double index_score(std::string_view key) const;
  std::string_view index_member(std::string_view key) const;
  // The member of a member entry's key.
  std::string_view entry_member(std::string_view key) const;

  // Positions `c` (an index() cursor) on the entry of ascending rank `rank` (< size()):
  // through the rank index, or for a small set walking from the nearer end. `c` is
  // invalid afterwards only on an error (its status, or the returned one).
  [[nodiscard]] Status seek_rank(StagedWrites::Cursor& c, std::uint64_t rank);
  // The ascending rank of the member with index key `key` (present).
  Result<std::uint64_t> rank_of(std::string_view key);

 private:
  Result<std::uint64_t> walked_rank_of(std::string_view key);

  Collection& c_;
  ZSetRankIndex rank_;
  RankShape rank_shape_;
  bool rank_deferred_ = false;
};

// Positions `c` on the last entry whose key is below `key` (invalid: none).
void seek_before(StagedWrites::Cursor& c, std::string_view key);

}  // namespace cascade::types
