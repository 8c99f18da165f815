// KeyspaceFilter: the engine's compaction filter for a shard's keyspace (DESIGN.md, "Data
// model": expiry is final in compaction; stale members of deleted collections go away).
//
// Compaction offers it the newest version of each key no snapshot can still see
// (engine/compaction/compaction_filter.h) and it must answer without suspending, so:
//
//   metadata records  an inline record whose expiry has passed (by the wall clock) is
//                     dropped: it already reads as missing, and dropping it is the key's
//                     final deletion. A record held in the value log (a pointer) is kept:
//                     its expiry is not in the entry; lazy and active expiry delete it.
//   member entries    a member belongs to one version of one collection (collection.h).
//                     The filter cannot read the metadata record, so it drops the members
//                     of versions already known dead, and queues every other version it
//                     meets (once) as a suspect. The keyspace sweeper (keyspace_sweeper.h)
//                     checks each suspect against its metadata record (missing, expired,
//                     another type or another version: dead), deletes a dead version's
//                     members with tombstones, and remembers it as dead so compactions
//                     running meanwhile drop its members directly.
//
// Nothing here is persisted: after a restart the next compaction over stale members finds
// them again. Members of one version are adjacent in key order, so the filter decides each
// version once per run of members (a one-entry memo), not once per member.
//
// Deleting a version's members is safe at any time once no metadata record names it:
// versions are never reused (Keyspace::new_version), so no command can write that version
// again, and readers at an older snapshot still see the members (tombstones are newer).
//
// Calling rules: the shard's thread only (compaction fibers and the sweeper).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "engine/compaction/compaction_filter.h"

namespace cascade::types {

// A member key's version prefix (db id | 0x02 | len | key | version), parsed.
struct MemberVersion {
  std::string_view prefix;  // the first 17 + len(key) bytes of the member key
  std::uint32_t db_id = 0;
  std::string_view key;
  std::uint64_t version = 0;
};
// Parses a member entry's key; nullopt when `engine_key` is not a well-formed member key.
std::optional<MemberVersion> parse_member_key(std::string_view engine_key);

class KeyspaceFilter : public engine::CompactionFilter {
 public:
  // Suspects and dead versions are bounded: past these, new suspects wait for a later
  // compaction, and the dead set is forgotten (its versions' members are tombstoned
  // already or will be found again).
  static constexpr std::size_t kMaxSuspects = 4096;
  static constexpr std::size_t kMaxDead = 4096;

  Decision filter(int level, std::string_view user_key, engine::ValueType type,
                  std::string_view value) const override;

  // For the sweeper: the next version prefix to check, if any.
  std::optional<std::string> take_suspect();
  void mark_dead(std::string_view prefix);
  std::size_t suspects() const { return suspects_.size(); }

  // Statistics (tests, INFO).
  std::uint64_t expired_dropped() const { return expired_dropped_; }
  std::uint64_t members_dropped() const { return members_dropped_; }

 private:
  Decision filter_member(std::string_view user_key) const;

  mutable std::deque<std::string> suspects_;
  mutable std::unordered_set<std::string> queued_;  // the prefixes in suspects_
  std::unordered_set<std::string> dead_;
  mutable std::string memo_prefix_;
  mutable Decision memo_ = Decision::kKeep;
  mutable std::uint64_t expired_dropped_ = 0;
  mutable std::uint64_t members_dropped_ = 0;
};

}  // namespace cascade::types
