// Internal keys: how the engine versions every user key.
//
//   internal key = user_key bytes | trailer (8 bytes, little-endian)
//   trailer      = (sequence << 8) | value_type
//
// The sequence number (56 bits) orders writes; the type says what the entry is. Internal
// keys sort by user key ascending (bytewise), then by trailer descending, so the newest
// version of a key comes first and a seek to (key, snapshot_sequence) lands on the newest
// version visible to that snapshot.
//
// ValueType values are written to disk (WAL, tables): they never change meaning.
#pragma once

#include <cassert>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/format/coding.h"

namespace cascade::engine {

using SequenceNumber = std::uint64_t;
constexpr SequenceNumber kMaxSequenceNumber = (std::uint64_t{1} << 56) - 1;

enum class ValueType : std::uint8_t {
  kDeletion = 0,      // tombstone
  kValue = 1,         // value stored inline
  kValuePointer = 2,  // value lives in a value-log file; the entry holds its address
};
constexpr ValueType kMaxValueType = ValueType::kValuePointer;
// Seeks use the largest type so that, for equal sequence numbers, they land before every
// real entry of that key.
constexpr ValueType kValueTypeForSeek = kMaxValueType;

constexpr std::size_t kTrailerSize = 8;

inline std::uint64_t pack_trailer(SequenceNumber seq, ValueType type) {
  assert(seq <= kMaxSequenceNumber);
  return (seq << 8) | static_cast<std::uint8_t>(type);
}

inline void append_internal_key(std::string& dst, std::string_view user_key, SequenceNumber seq,
                                ValueType type) {
  dst.append(user_key);
  put_fixed64(dst, pack_trailer(seq, type));
}

// Writes the internal key (user key, then its trailer) at dst, which has room for
// user_key.size() + kTrailerSize bytes.
inline void encode_internal_key(char* dst, std::string_view user_key, SequenceNumber seq,
                                ValueType type) {
  if (!user_key.empty()) std::memcpy(dst, user_key.data(), user_key.size());
  store_fixed64(dst + user_key.size(), pack_trailer(seq, type));
}

// A view of an encoded internal key. The bytes must outlive the view.
struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueType type = ValueType::kValue;
};

// False if the key is too short or carries an unknown type (corruption).
inline bool parse_internal_key(std::string_view ikey, ParsedInternalKey& out) {
  if (ikey.size() < kTrailerSize) return false;
  std::uint64_t trailer = load_fixed64(ikey.data() + ikey.size() - kTrailerSize);
  auto type = static_cast<std::uint8_t>(trailer & 0xff);
  if (type > static_cast<std::uint8_t>(kMaxValueType)) return false;
  out.user_key = ikey.substr(0, ikey.size() - kTrailerSize);
  out.sequence = trailer >> 8;
  out.type = static_cast<ValueType>(type);
  return true;
}

inline std::string_view extract_user_key(std::string_view ikey) {
  assert(ikey.size() >= kTrailerSize);
  return ikey.substr(0, ikey.size() - kTrailerSize);
}
inline std::uint64_t extract_trailer(std::string_view ikey) {
  assert(ikey.size() >= kTrailerSize);
  return load_fixed64(ikey.data() + ikey.size() - kTrailerSize);
}

// Orders encoded internal keys: user key ascending, then trailer descending.
inline int compare_internal_keys(std::string_view a, std::string_view b) {
  int c = extract_user_key(a).compare(extract_user_key(b));
  if (c != 0) return c < 0 ? -1 : 1;
  std::uint64_t ta = extract_trailer(a), tb = extract_trailer(b);
  if (ta == tb) return 0;
  return ta > tb ? -1 : 1;
}

struct InternalKeyLess {
  bool operator()(std::string_view a, std::string_view b) const {
    return compare_internal_keys(a, b) < 0;
  }
};

}  // namespace cascade::engine
