// Counting one shard's live keys per logical database, for INFO's Keyspace section
// ("db0:keys=..,expires=..,avg_ttl=..").
//
// The count is a scan of the metadata records (space 0x01 of each database, FORMAT.md):
// O(keys) per call, at one snapshot of the engine. Expired records that no write has
// deleted yet are not counted (they read as missing everywhere else too). A record the
// scan cannot decode is Corruption. Keeping running counters in the write path (and the
// count at open) would make this O(1); until then INFO's Keyspace costs a scan.
//
// Calling rules: the owning shard's fibers (the scan may suspend on IO).
#pragma once

#include <cstdint>
#include <map>

#include "engine/db.h"
#include "src/types/database_ids.h"
#include "src/runtime/result.h"

namespace cascade::types {

struct DbKeyCount {
  std::uint64_t keys = 0;
  std::uint64_t expires = 0;           // keys with a time to live
  std::uint64_t ttl_sum_ms = 0;        // their remaining time to live, summed

  void add(const DbKeyCount& other) {
    keys += other.keys;
    expires += other.expires;
    ttl_sum_ms += other.ttl_sum_ms;
  }
};

// Database number -> its live keys; databases without any are absent. Keys are stored
// under database ids (FORMAT.md, "Database ids"): `ids` maps them back to numbers, and
// keys under a garbage id (a flushed database the sweeper has not purged yet) are skipped.
Result<std::map<std::uint32_t, DbKeyCount>> count_keys(engine::DB& db, const DatabaseIds& ids,
                                                       std::int64_t now_ms);

}  // namespace cascade::types
