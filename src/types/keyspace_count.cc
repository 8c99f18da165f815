// See keyspace_count.h.
#include "src/types/keyspace_count.h"

#include <optional>
#include <string>

#include "src/types/key_record.h"

namespace cascade::types {
namespace {

std::uint32_t db_of(std::string_view engine_key) {
  std::uint32_t db = 0;
  for (int i = 0; i < 4; ++i) db = (db << 8) | static_cast<std::uint8_t>(engine_key[i]);
  return db;
}

// The first engine key of database `db`'s metadata records.
std::string metadata_start(std::uint32_t db) { return metadata_key(db, {}); }

}  // namespace

Result<std::map<std::uint32_t, DbKeyCount>> count_keys(engine::DB& db, const DatabaseIds& ids,
                                                       std::int64_t now_ms) {
  std::map<std::uint32_t, DbKeyCount> out;
  engine::ReadOptions options;
  options.resolve_values = false;  // types and expiries only: value_head below
  auto it = db.iterator(options);
  it->seek(metadata_start(0));
  while (it->valid()) {
    const std::string_view key = it->key();
    if (key.size() < kMetadataKeyPrefix) return Status::corruption("engine key shorter than its prefix");
    const std::uint32_t id = db_of(key);
    const std::optional<std::uint32_t> number = ids.database_of(id);
    if (!number || static_cast<std::uint8_t>(key[4]) != kMetadataSpace) {
      // A garbage or system id, or past this id's metadata (its collection members): on to
      // the next id.
      if (id == UINT32_MAX) break;
      it->seek(metadata_start(id + 1));
      continue;
    }
    // A record stored in the value log has its header in the tree (the pointer's head,
    // key_record.h); one written before heads existed is read whole.
    std::optional<std::string> resolved;
    std::optional<std::string_view> head = it->value_head();
    if (!head) {
      auto read = db.get(key);
      if (!read) return read.error();
      if (!*read) {  // deleted since the iterator's snapshot
        it->next();
        continue;
      }
      resolved = std::move(*read);
    }
    auto record = decode_record(resolved ? std::string_view(*resolved) : *head);
    if (!record) return record.error();
    if (!record->expired_at(now_ms)) {
      DbKeyCount& count = out[*number];
      ++count.keys;
      if (record->expire_ms) {
        ++count.expires;
        count.ttl_sum_ms += static_cast<std::uint64_t>(*record->expire_ms - now_ms);
      }
    }
    it->next();
  }
  if (!it->status()) return it->status();
  return out;
}

}  // namespace cascade::types
