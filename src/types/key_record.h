// The metadata record: what the engine stores for every Redis key (DESIGN.md, "Data
// model"; the byte layout is also in src/types/FORMAT.md, which changes with this file).
//
// Engine key of a metadata record (sorted bytewise, so each database is one contiguous
// range and, inside it, keys sort by their bytes):
//
//   offset  size  field
//   0       4     db id    the logical database's current id (database_ids.h), big-endian
//                          u32; the caller maps the number to the id
//   4       1     space    0x01 = metadata record (0x02 = collection members:
//                          db | space | len(key) | key | version | member, collection.h)
//   5       n     key      the Redis key's bytes, as given (any bytes, may be empty)
//
// Engine value of a metadata record:
//
//   offset  size  field
//   0       1     type     KeyType: 1 string, 2 hash, 3 list, 4 set, 5 zset
//   1       1     flags    bit 0: an expiry follows; bit 1 (strings only): the value was
//                          modified in place (APPEND to an existing value, SETRANGE,
//                          SETBIT, BITFIELD's writes, BITOP's destination), which Redis
//                          stores "raw" whatever its length: OBJECT ENCODING says so too;
//                          bits 2-7 must be 0 (a reader seeing one refuses the record as
//                          written by a newer format), and bit 1 on another type too
//   2       8     expire   only when flags bit 0: absolute unix time in ms, fixed64 LE
//                          (two's complement; always in the future when written)
//   ...           payload  for a string: the whole value, inline (an empty value is an
//                          empty payload). A collection's is its header (collection.h).
//
// So a string key is exactly one engine entry. A record whose expiry is at or before the
// reader's clock is expired: it reads as missing (lazy expiry); the next write to the key
// overwrites or deletes it; active expiry (keyspace_sweeper.h) and compaction
// (keyspace_filter.h) delete it in the background.
//
// Pure encoding: no IO, safe from any thread. The numbers above never change meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/runtime/result.h"

namespace cascade::types {

enum class KeyType : std::uint8_t {
  kString = 1,
  kHash = 2,
  kList = 3,
  kSet = 4,
  kZSet = 5,
};

// TYPE's name for a type ("string", "hash", ...).
std::string_view key_type_name(KeyType type);

inline constexpr std::uint8_t kMetadataSpace = 0x01;
inline constexpr std::uint8_t kFlagHasExpire = 0x01;
inline constexpr std::uint8_t kFlagRawString = 0x02;
inline constexpr std::uint8_t kKnownFlags = kFlagHasExpire | kFlagRawString;
inline constexpr std::size_t kMetadataKeyPrefix = 5;  // db + space
// The longest record header: type, flags and expiry. A record's first this-many bytes (or
// all of a shorter one) decode to its type and expiry; the engine keeps them in the tree
// for every record it moves to the value log (DBOptions::vlog_value_head_size, set by the
// server), so walks that need only those (active expiry, key counts) read no value.
inline constexpr std::size_t kRecordHeaderMaxSize = 10;

// Appends the engine key of `key`'s metadata record in database `db` to `out`.
void append_metadata_key(std::string& out, std::uint32_t db, std::string_view key);
// The same at dst, which has room for kMetadataKeyPrefix + key.size() bytes.
void encode_metadata_key(char* dst, std::uint32_t db, std::string_view key);
std::string metadata_key(std::uint32_t db, std::string_view key);

// A decoded metadata record; `payload` views the encoded bytes it was decoded from.
struct RecordView {
  KeyType type = KeyType::kString;
  std::optional<std::int64_t> expire_ms;
  std::string_view payload;
  bool raw_string = false;  // flags bit 1

  bool expired_at(std::int64_t now_ms) const { return expire_ms && *expire_ms <= now_ms; }
};

// Appends a record of any type to `out` (for a string the payload is its value);
// `raw_string` only for a string.
void append_record(std::string& out, KeyType type, std::optional<std::int64_t> expire_ms,
                   std::string_view payload, bool raw_string = false);
// Appends the record of a string value to `out`.
void append_string_record(std::string& out, std::optional<std::int64_t> expire_ms,
                          std::string_view value, bool raw_string = false);
std::string string_record(std::optional<std::int64_t> expire_ms, std::string_view value,
                          bool raw_string = false);

// Decodes a record; Corruption when it is truncated, of an unknown type or carries flags
// this version does not know. Given only the record's first kRecordHeaderMaxSize bytes (a
// value head), type and expire_ms are right and the payload is cut short.
Result<RecordView> decode_record(std::string_view bytes);

}  // namespace cascade::types
