// Collections on the engine: hashes, lists, sets and sorted sets (DESIGN.md, "Data model";
// byte layout in src/types/FORMAT.md, "Collections", which changes with this file).
//
// A collection is its metadata record (key_record.h; type 2-5) whose payload is a
// CollectionHeader, plus one engine entry per member under
//
//   db id (u32 BE) | 0x02 | len(key) (u32 BE) | key | version (u64 BE) | suffix
//
// so one version of one collection is one contiguous key range (its member prefix) and
// reading it is a prefix scan. The suffix per type:
//   hash:  the field; the entry's value is the field's value
//   set:   the member; empty value
//   list:  the element's index, u64 BE; the value is the element. Elements occupy
//          [head, tail) with no gaps; a new list starts at kListOrigin so pushes grow both ways
//   zset:  0x00 | member -> score (8 bytes, the double's bits LE), and the score index
//          0x01 | sortable score (8 bytes, score_key() below) | member -> empty, so a
//          range by score is a seek; large ones also their rank index (zset_rank.h):
//          0x02 | level | separator -> empty and 0x03 | level | separator -> count
//
// Versions. A collection created anew (its key was missing, deleted or held another type)
// gets a version never used before on the shard (Keyspace::new_version), so DEL and
// overwrite are one metadata write: the old version's members are no longer reachable
// (garbage, reclaimed in the background) and never mix with the new ones.
//
// The header's size is the member count; a collection whose last member goes is deleted
// (Redis never keeps an empty collection), so a present collection has size > 0.
//
// Pure encoding plus Collection, a command's handle on one collection key through its
// StagedWrites (staged_writes.h): member reads see the command's own earlier writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/runtime/result.h"
#include "src/types/key_record.h"
#include "src/types/keyspace.h"
#include "src/types/staged_writes.h"

namespace cascade::types {

inline constexpr std::uint8_t kMemberSpace = 0x02;
// A new list's first index: pushes on either side have 2^63 slots to grow into.
inline constexpr std::uint64_t kListOrigin = std::uint64_t{1} << 63;
// Sorted-set member suffixes start with one of these.
inline constexpr char kZSetMemberTag = 0x00;
inline constexpr char kZSetScoreTag = 0x01;
// The rank index (zset_rank.h): its separators, and their counts.
inline constexpr char kZSetRankTag = 0x02;
inline constexpr char kZSetCountTag = 0x03;

inline bool is_collection(KeyType type) { return type != KeyType::kString; }

struct CollectionHeader {
  std::uint64_t version = 0;
  std::uint64_t size = 0;             // members
  std::uint64_t head = kListOrigin;   // lists only: index of the first element
  std::uint64_t tail = kListOrigin;   // lists only: one past the last element
  // Sorted sets only: bounds on the score index's suffixes (after the 0x01 tag), so a walk
  // from either end starts at a live entry instead of stepping over the deletions that
  // ZPOPMIN/ZPOPMAX left until compaction drops them (each pop would otherwise cost every
  // pop before it). Every live index suffix s has index_low <= s, and s < index_high when
  // index_high is not empty. Kept by types::ZSet; at most kMaxIndexBound bytes each.
  std::string index_low;
  std::string index_high;
  // Sorted sets only: the levels of the rank index (zset_rank.h); 0: none, the set is small
  // enough to walk. At most kMaxRankHeight.
  std::uint8_t rank_height = 0;

  bool operator==(const CollectionHeader&) const = default;
};
inline constexpr std::size_t kMaxIndexBound = 72;
inline constexpr std::uint8_t kMaxRankHeight = 16;

// Appends the metadata payload of a collection of `type` (lists carry head and tail).
void append_collection_payload(std::string& out, KeyType type, const CollectionHeader& header);
// Corruption when the payload is not a whole header of `type` (or a list's head and tail
// disagree with its size).
Result<CollectionHeader> decode_collection_payload(KeyType type, std::string_view payload);

// db id | 0x02 | len(key) | key | version: every member key of that version starts so.
std::string member_prefix(std::uint32_t db_id, std::string_view key, std::uint64_t version);

// Big-endian u64 (list indexes, versions): sorts as the number does.
void append_u64_be(std::string& out, std::uint64_t value);
std::uint64_t load_u64_be(std::string_view bytes);  // requires 8 bytes

// A score as 8 bytes that sort bytewise as the doubles do (-inf first, +inf last; -0 is
// written as +0, one score for Redis). NaN is never stored.
void append_score_key(std::string& out, double score);
double decode_score_key(std::string_view bytes);  // requires 8 bytes
// A score as a zset member entry's value: the double's bits, fixed64 LE.
void append_score_value(std::string& out, double score);
Result<double> decode_score_value(std::string_view bytes);

// One collection key as a command sees it through its StagedWrites. Made by open() from
// the key's loaded metadata record; member operations stage writes; finish() stages the
// metadata record to match (or its deletion when the collection became empty). The caller
// commits the StagedWrites (LockedKey::commit).
class Collection {
 public:
  enum class State : std::uint8_t { kMissing, kPresent, kWrongType };

  // `record` is the key's live record (nullopt: the key does not exist). db_id is the
  // database's current id on this shard (DatabaseIds::id_of).
  static Result<Collection> open(StagedWrites& writes, std::uint32_t db_id, std::string_view key,
                                 KeyType type, const std::optional<StoredRecord>& record);

  State state() const { return state_; }
  bool exists() const { return state_ == State::kPresent; }
  bool wrong_type() const { return state_ == State::kWrongType; }
  KeyType type() const { return type_; }
  std::optional<std::int64_t> expire_ms() const { return expire_ms_; }
  CollectionHeader& header() { return header_; }
  const CollectionHeader& header() const { return header_; }
  std::uint64_t size() const { return header_.size; }
  void set_expire_ms(std::optional<std::int64_t> expire_ms) { expire_ms_ = expire_ms; }

  // Makes a missing key a new, empty collection of version `version` (from
  // Keyspace::new_version) with no expiry; members can then be added.
  void create(std::uint64_t version);

  // Member keys: prefix() + suffix. Valid once the collection exists or was created.
  const std::string& prefix() const { return prefix_; }
  std::string member_key(std::string_view suffix) const;

  Result<std::optional<std::string>> get(std::string_view suffix);
  void put(std::string_view suffix, std::string_view value);
  void del(std::string_view suffix);
  // A cursor over this version's members; its keys are whole engine keys (strip
  // prefix().size() bytes for the suffix).
  StagedWrites::Cursor cursor();
  // A cursor over the members whose suffix starts with `sub` (a zset's 0x00 or 0x01 range).
  StagedWrites::Cursor cursor(std::string_view sub);

  // Stages the metadata record: the header as it is now, keeping the expiry, or the key's
  // deletion when size is 0. Call once, after the member writes. Nothing is staged when the
  // collection existed and its header and expiry are as they were loaded (a hash field's
  // new value, a sorted set member's new score within the index bounds, LSET): the stored
  // record already says so, and rewriting it cost every such command a second engine
  // entry for one that changed nothing (a third of HSET's memtable work on an existing
  // field). Nothing reads a metadata record's sequence; WATCH is told by the commit.
  void finish();

  StagedWrites& writes() { return *writes_; }

 private:
  StagedWrites* writes_ = nullptr;
  std::uint32_t db_id_ = 0;
  std::string key_;
  KeyType type_ = KeyType::kHash;
  State state_ = State::kMissing;
  std::optional<std::int64_t> expire_ms_;
  CollectionHeader header_;
  std::string prefix_;
  // The header and expiry as open() loaded them, when the key existed.
  std::optional<CollectionHeader> loaded_header_;
  std::optional<std::int64_t> loaded_expire_ms_;
};

}  // namespace cascade::types
