// See key_record.h for the layout.
#include "src/types/key_record.h"

#include <cassert>
#include <cstring>

#include "engine/format/coding.h"

namespace cascade::types {

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kString: return "string";
    case KeyType::kHash: return "hash";
    case KeyType::kList: return "list";
    case KeyType::kSet: return "set";
    case KeyType::kZSet: return "zset";
  }
  return "none";
}

void encode_metadata_key(char* dst, std::uint32_t db, std::string_view key) {
  dst[0] = static_cast<char>(db >> 24);
  dst[1] = static_cast<char>(db >> 16);
  dst[2] = static_cast<char>(db >> 8);
  dst[3] = static_cast<char>(db);
  dst[4] = static_cast<char>(kMetadataSpace);
  if (!key.empty()) std::memcpy(dst + kMetadataKeyPrefix, key.data(), key.size());
}

void append_metadata_key(std::string& out, std::uint32_t db, std::string_view key) {
  const std::size_t at = out.size();
  out.resize(at + kMetadataKeyPrefix + key.size());
  encode_metadata_key(out.data() + at, db, key);
}

std::string metadata_key(std::uint32_t db, std::string_view key) {
  std::string out;
  out.reserve(kMetadataKeyPrefix + key.size());
  append_metadata_key(out, db, key);
  return out;
}

void append_record(std::string& out, KeyType type, std::optional<std::int64_t> expire_ms,
                   std::string_view payload, bool raw_string) {
  assert(!raw_string || type == KeyType::kString);
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>((expire_ms ? kFlagHasExpire : 0) |
                                  (raw_string ? kFlagRawString : 0)));
  if (expire_ms) engine::put_fixed64(out, static_cast<std::uint64_t>(*expire_ms));
  out.append(payload);
}

void append_string_record(std::string& out, std::optional<std::int64_t> expire_ms,
                          std::string_view value, bool raw_string) {
  append_record(out, KeyType::kString, expire_ms, value, raw_string);
}

std::string string_record(std::optional<std::int64_t> expire_ms, std::string_view value,
                          bool raw_string) {
  std::string out;
  out.reserve(10 + value.size());
  append_string_record(out, expire_ms, value, raw_string);
  return out;
}

Result<RecordView> decode_record(std::string_view bytes) {
  if (bytes.size() < 2) return Status::corruption("metadata record shorter than its header");
  const auto type = static_cast<std::uint8_t>(bytes[0]);
  const auto flags = static_cast<std::uint8_t>(bytes[1]);
  if (type < static_cast<std::uint8_t>(KeyType::kString) ||
      type > static_cast<std::uint8_t>(KeyType::kZSet)) {
    return Status::corruption("metadata record of unknown type " + std::to_string(type));
  }
  if ((flags & ~kKnownFlags) != 0) {
    return Status::corruption("metadata record with unknown flags " + std::to_string(flags) +
                              " (written by a newer format?)");
  }
  if ((flags & kFlagRawString) != 0 && type != static_cast<std::uint8_t>(KeyType::kString)) {
    return Status::corruption("metadata record of type " + std::to_string(type) +
                              " flagged as a string modified in place");
  }
  RecordView view;
  view.type = static_cast<KeyType>(type);
  view.raw_string = (flags & kFlagRawString) != 0;
  bytes.remove_prefix(2);
  if (flags & kFlagHasExpire) {
    std::uint64_t expire = 0;
    if (!engine::get_fixed64(bytes, expire)) {
      return Status::corruption("metadata record truncated in its expiry");
    }
    view.expire_ms = static_cast<std::int64_t>(expire);
  }
  view.payload = bytes;
  return view;
}

}  // namespace cascade::types
