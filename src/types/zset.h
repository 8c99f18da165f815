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
// Ranks (ZRANK, ZRANGE by index, ZREMRANGEBYRANK...) come from walking the score index
// from its nearer end, or from an order-statistics index kept beside it: counted
// separators in levels, prefix | 0x02 | level | separator and
// prefix | 0x03 | level | separator -> count (zset_rank.h has the structure and its
// invariants; FORMAT.md the bytes), so rank_of() and seek_rank() cost O(log N) reads.
//
// The index is built on demand: a set has none (header rank_height 0) until a rank
// operation would walk more than RankShape::walk entries: seek_rank() of a rank that far
// from both ends, or rank_of() whose two-ended walk passes that many steps without
// arriving. It is then built by one scan (ZSetRankIndex::build) and used, and from then
// on set() and remove() keep it (every writer of score-index entries goes through them).
// So a set only ever ranked near its ends (a leaderboard's top, ZRANGE 0 9) or never
// ranked at all (a queue, a schedule, ranges by score, pops) pays nothing for the index on
// its writes. A set filled in bulk (RESTORE, *STORE) starts without one, like any new set.
//
// The build writes records, so only a ZSet whose writes its caller commits may build
// (RankBuild::kOnDemand). A read-only caller passes kAsk: a far rank then fails with
// rank_index_wanted() set, and the caller runs again under the key's lock with kOnDemand
// (commands/zset_access.h). kNever walks however far (callers that cannot commit the
// source's records, e.g. a multi-key command's source view).
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

// Whether a rank operation far from both ends may build the rank index (file comment).
enum class RankBuild : std::uint8_t { kNever, kOnDemand, kAsk };

class ZSet {
 public:
  // `rank_shape`: the rank index's B, F and walk limit (tests make them small).
  explicit ZSet(Collection& c, RankBuild build = RankBuild::kNever, RankShape rank_shape = {})
      : c_(c), rank_(c, rank_shape), rank_shape_(rank_shape), build_(build) {}

  Collection& coll() { return c_; }
  std::uint64_t size() const { return c_.size(); }

  // The member's score, nullopt when it is not a member.
  Result<std::optional<double>> score(std::string_view member);
  // Makes `member`'s score `score` (not NaN): `old` is its current score (nullopt when it
  // is not yet a member; the size grows). Stages both entries and, when the set has a rank
  // index, its changes.
  [[nodiscard]] Status set(std::string_view member, double score, std::optional<double> old);
  // Removes a member whose current score is `score` (both entries); the size shrinks.
  [[nodiscard]] Status remove(std::string_view member, double score);
  bool has_rank_index() const { return c_.header().rank_height > 0; }
  // This ZSet built the index (kOnDemand): the header changed, the caller must stage it
  // (Collection::finish) and commit, though the set's value did not change.
  bool built_rank_index() const { return built_; }
  // A far rank was refused (kAsk): the failed call's status says so too.
  bool rank_index_wanted() const { return wanted_; }
  // Whether a rank lookup may be far without walking that far (an index, or one may be
  // built): otherwise a caller prefers stepping.
  bool ranks_are_cheap() const { return has_rank_index() || build_ != RankBuild::kNever; }
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
  // through the rank index, or walking from the nearer end when there is none and that
  // end is at most RankShape::walk entries away (else building it, file comment). `c` is
  // invalid afterwards only on an error (its status, or the returned one).
  [[nodiscard]] Status seek_rank(StagedWrites::Cursor& c, std::uint64_t rank);
  // The ascending rank of the member with index key `key` (present): as seek_rank.
  Result<std::uint64_t> rank_of(std::string_view key);

 private:
  // nullopt: the walk passed `limit` steps without arriving.
  Result<std::optional<std::uint64_t>> walked_rank_of(std::string_view key, std::uint64_t limit);
  // A rank `distance` entries from the nearer end is wanted and there is no index: builds
  // it if that is far and allowed (Status::ok, has_rank_index() after), refuses it for
  // kAsk; ok without an index when walking is the way.
  Status index_for(std::uint64_t distance);

  Collection& c_;
  ZSetRankIndex rank_;
  RankShape rank_shape_;
  RankBuild build_;
  bool built_ = false;
  bool wanted_ = false;
};

// The status of a rank operation refused for kAsk (ZSet::rank_index_wanted()).
inline constexpr std::string_view kRankIndexWanted = "a far rank wants the rank index built";

// Positions `c` on the last entry whose key is below `key` (invalid: none).
void seek_before(StagedWrites::Cursor& c, std::string_view key);

}  // namespace cascade::types
