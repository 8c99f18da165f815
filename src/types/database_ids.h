// DatabaseIds: the stored id each logical database (SELECT's number) uses in one shard's
// engine keys. FLUSHDB and FLUSHALL give a database a fresh id in one small write, so the
// client never waits for a delete per key; the keys under the old (retired) id are
// unreachable from then on and are deleted in the background (keyspace_sweeper.h).
//
// Ids (the first 4 bytes of every metadata key, src/types/FORMAT.md):
//   id <  kFirstAllocated   a database never flushed uses its own number as its id
//   id >= kFirstAllocated   ids handed out by flushes, from a counter that never goes back
//   kSystemId               this shard's own records (the assignments below), never a key
// Records (engine key -> value), all under kSystemId with space 0x00:
//   FF FF FF FF 00 'd' db(u32 BE)   ->  id (fixed32 LE)     the database's current id
//   FF FF FF FF 00 'n'              ->  next id (fixed32 LE)
// An id is garbage when no database maps to it: a number below kFirstAllocated whose
// database has a record, or an allocated id no record names.
//
// Calling rules: one shard's fibers. reassign() reserves ids at once (two flushes never
// get the same id); its records are written by the caller, and commit() makes them current
// only after that write was acknowledged. Callers serialise reassign..commit (Keyspace's
// flush lock), so memory and disk agree on the order.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/db.h"
#include "src/runtime/result.h"

namespace cascade::types {

class DatabaseIds {
 public:
  static constexpr std::uint32_t kFirstAllocated = 0x80000000u;
  static constexpr std::uint32_t kSystemId = 0xFFFFFFFFu;

  // Reads the records written by earlier flushes.
  Status load(engine::DB& engine);

  std::uint32_t id_of(std::uint32_t db) const;
  // The current ids of databases 0 to count - 1, ascending. Kept between calls (the
  // sweeper asks every tick) and made again only after commit() or for another count.
  const std::vector<std::uint32_t>& current_ids(std::uint32_t count) const;
  // The database whose current id is `id`; nullopt if `id` is garbage or kSystemId.
  std::optional<std::uint32_t> database_of(std::uint32_t id) const;

  using Assignment = std::vector<std::pair<std::uint32_t, std::uint32_t>>;  // db, new id
  // Fresh ids for `dbs`, their records added to `batch`.
  Assignment reassign(std::span<const std::uint32_t> dbs, engine::WriteBatch& batch);
  // Makes `assignment` current; returns the ids it retired.
  std::vector<std::uint32_t> commit(const Assignment& assignment);

  static std::string assignment_key(std::uint32_t db);
  static std::string counter_key();
  // The lowest engine key of the system records; every key >= it is a system record.
  static std::string system_prefix();

 private:
  std::unordered_map<std::uint32_t, std::uint32_t> mapped_;   // db -> id, flushed dbs only
  std::unordered_map<std::uint32_t, std::uint32_t> reverse_;  // allocated id -> db
  std::uint32_t next_id_ = kFirstAllocated;
  mutable std::vector<std::uint32_t> current_;  // current_ids(current_count_), when valid
  mutable std::uint32_t current_count_ = 0;
  mutable bool current_valid_ = false;
};

// The id in the first four bytes of an engine key (big-endian); kSystemId if shorter.
std::uint32_t engine_key_id(std::string_view engine_key);

}  // namespace cascade::types
