// Test helper: the metadata record of `key` in database id 0, read straight from the
// engine, as Collection::open expects it (nullopt: no record).
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string_view>

#include "engine/db.h"
#include "src/types/key_record.h"
#include "src/types/keyspace.h"

namespace cascade::types::test_util {

inline std::optional<StoredRecord> load_record(engine::DB& db, std::string_view key) {
  auto meta = db.get(metadata_key(0, key));
  REQUIRE(meta);
  if (!meta->has_value()) return std::nullopt;
  StoredRecord record;
  record.bytes = **meta;
  auto view = decode_record(record.bytes);
  REQUIRE(view);
  record.type = view->type;
  record.payload_offset = record.bytes.size() - view->payload.size();
  return record;
}

}  // namespace cascade::types::test_util
