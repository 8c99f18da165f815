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
// No order-statistics index yet: a rank (ZRANK, ZRANGE by index) is found by counting
// entries from the nearer end of the index, so its cost grows with the distance to that
// end, not with the log of the size. rank_of() and seek_rank() are where that would change.
//
// Calling rules: those of the Collection (its shard's fibers; reads may suspend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/runtime/result.h"
#include "src/types/collection.h"

namespace cascade::types {

class ZSet {
 public:
  explicit ZSet(Collection& c) : c_(c) {}

  Collection& coll() { return c_; }
  std::uint64_t size() const { return c_.size(); }

  // The member's score, nullopt when it is not a member.
  Result<std::optional<double>> score(std::string_view member);
  // Makes `member`'s score `score` (not NaN): `old` is its current score (nullopt when it
  // is not yet a member; the size grows). Stages both entries.
  void set(std::string_view member, double score, std::optional<double> old);
  // Removes a member whose current score is `score` (both entries); the size shrinks.
  void remove(std::string_view member, double score);
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

  // Positions `c` (an index() cursor) on the entry of ascending rank `rank` (< size()),
  // walking from the nearer end.
  static void seek_rank(StagedWrites::Cursor& c, std::uint64_t rank, std::uint64_t size);
  // The ascending rank of the member with index key `key` (present): two forward walks in
  // turn, from the first entry and from the member, stop when either arrives.
  Result<std::uint64_t> rank_of(std::string_view key);

 private:
  Collection& c_;
};

// Positions `c` on the last entry whose key is below `key` (invalid: none).
void seek_before(StagedWrites::Cursor& c, std::string_view key);

}  // namespace cascade::types
