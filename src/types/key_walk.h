// Walking one database's live keys on one shard in key order: what KEYS, SCAN, DBSIZE and
// RANDOMKEY are built on. Expired records are skipped (and counted as examined); records
// of other spaces (collection members, later) are not keys and are skipped too.
//
// A walk starts at Redis key `from` (inclusive), keeps to keys starting with `prefix`, and
// stops after `max_examined` records (0: no limit). It returns where to resume (a Redis
// key, inclusive) or nullopt when the database has no more keys. The engine iterator reads
// the newest data, so a key written during a walk may or may not be seen; one present for
// the whole walk always is.
//
// One shard's fibers; each step may suspend on IO.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "src/types/keyspace.h"
#include "src/types/staged_writes.h"

namespace cascade::types {

struct KeyWalk {
  std::uint32_t db = 0;
  std::string_view from = {};    // Redis key to start at, inclusive
  std::string_view prefix = {};  // only keys starting with it
  std::size_t max_examined = 0;
  std::int64_t now_ms = 0;
};

namespace detail {

// The walk over `it` (an engine::DBIterator or a StagedWrites::Cursor), from `start`.
template <typename Iterator, typename Fn>
Result<std::optional<std::string>> walk_records(Iterator& it, std::string_view start,
                                                const KeyWalk& walk, Fn&& fn) {
  std::size_t examined = 0;
  for (it.seek(start); it.valid(); it.next()) {
    if (walk.max_examined != 0 && examined == walk.max_examined) {
      return std::optional<std::string>(std::string(it.key().substr(kMetadataKeyPrefix)));
    }
    ++examined;
    Result<RecordView> record = decode_record(it.value());
    if (!record) return record.error();
    if (record->expired_at(walk.now_ms)) continue;
    const std::string_view key = it.key().substr(kMetadataKeyPrefix);
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&, std::string_view, const RecordView&>>) {
      fn(key, *record);
    } else if (!fn(key, *record)) {
      return std::optional<std::string>(std::string(key) + '\0');  // just past `key`
    }
  }
  if (Status s = it.status(); !s) return s;
  return std::optional<std::string>();
}

}  // namespace detail

// fn(std::string_view key, const RecordView& record) for every live key walked; a fn that
// returns bool stops the walk by returning false (the walk resumes just past that key).
// `staged`: a MULTI/EXEC transaction's writes on this shard, which the walk sees over the
// engine's data (a key the transaction created, deleted or changed reads as it will be
// once committed); null outside one.
template <typename Fn>
Result<std::optional<std::string>> walk_keys(Keyspace& keyspace, const KeyWalk& walk, Fn&& fn,
                                             StagedWrites* staged = nullptr) {
  const std::string head = keyspace.engine_key(walk.db, walk.prefix);
  const std::string start = keyspace.engine_key(walk.db, std::max(walk.from, walk.prefix));
  if (staged != nullptr) {
    StagedWrites::Cursor cursor(*staged, head, prefix_end(head));
    return detail::walk_records(cursor, start, walk, fn);
  }
  engine::ReadOptions options;
  options.prefix = head;
  std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
  return detail::walk_records(*it, start, walk, fn);
}

}  // namespace cascade::types
