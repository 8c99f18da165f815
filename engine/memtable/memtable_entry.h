// How one memtable entry is laid out in the arena, and how the index compares entries.
//
//   entry = varint32 internal_key_size | internal key | varint32 value_size | value
//
// The internal key is the user key plus its 8-byte trailer (engine/format/internal_key.h).
// An entry is written once, never moved and never changed, so a `const char*` to its first
// byte identifies it for the arena's lifetime; the index stores only such pointers.
// This is an in-memory layout, never written to disk: entries are trusted and decoded
// without bounds checks.
//
// Comparisons go through a KeyPrefix: 8 bytes of the user key from some offset, big-endian
// and zero-padded, so comparing two prefixes taken at the same offset of keys that agree
// before it gives the bytewise order of the keys whenever the prefixes differ. The index
// keeps such a prefix next to each entry pointer (taken after the bytes all keys of the
// node share, see btree.h) and reads the entry itself only on a tie, which saves a cache
// miss per step.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/format/coding.h"
#include "engine/format/internal_key.h"
#include "engine/memtable/arena.h"

namespace cascade::engine {

using KeyPrefix = std::uint64_t;

// The 8 bytes of `user_key` from `offset` on (fewer, zero-padded, near its end).
inline KeyPrefix key_prefix(std::string_view user_key, std::size_t offset = 0) {
  unsigned char bytes[8] = {};
  if (offset < user_key.size()) {
    std::memcpy(bytes, user_key.data() + offset, std::min<std::size_t>(8, user_key.size() - offset));
  }
  KeyPrefix p = 0;
  for (unsigned char b : bytes) p = (p << 8) | b;
  return p;
}

// Decodes a varint32 our own encoder wrote; the caller guarantees it is well formed.
inline const char* decode_trusted_varint32(const char* p, std::uint32_t& out) {
  std::uint32_t v = 0;
  for (int shift = 0;; shift += 7) {
    auto byte = static_cast<unsigned char>(*p++);
    v |= static_cast<std::uint32_t>(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  out = v;
  return p;
}

inline std::string_view entry_internal_key(const char* entry) {
  std::uint32_t n;
  const char* p = decode_trusted_varint32(entry, n);
  return {p, n};
}

inline std::string_view entry_value(const char* entry) {
  std::string_view ikey = entry_internal_key(entry);
  std::uint32_t n;
  const char* p = decode_trusted_varint32(ikey.data() + ikey.size(), n);
  return {p, n};
}

// Copies (user_key, seq, type) and value into the arena as one entry.
// Sizes must fit in 32 bits (a write batch could not carry more).
inline const char* make_entry(Arena& arena, std::string_view user_key, SequenceNumber seq,
                              ValueType type, std::string_view value) {
  std::size_t ikey_size = user_key.size() + kTrailerSize;
  std::size_t total = varint_length(ikey_size) + ikey_size + varint_length(value.size()) +
                      value.size();
  char* start = arena.allocate(total);
  char* p = store_varint64(start, ikey_size);
  // An empty view may carry a null pointer, which memcpy must not be given even for 0 bytes.
  if (!user_key.empty()) std::memcpy(p, user_key.data(), user_key.size());
  p += user_key.size();
  store_fixed64(p, pack_trailer(seq, type));
  p = store_varint64(p + kTrailerSize, value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  return start;
}

// A key being searched for, split once into the parts comparisons use.
struct SearchKey {
  std::string_view user_key;
  std::uint64_t trailer = 0;

  static SearchKey from_internal_key(std::string_view ikey) {
    return {extract_user_key(ikey), extract_trailer(ikey)};
  }
  static SearchKey from_parts(std::string_view user_key, SequenceNumber seq, ValueType type) {
    return {user_key, pack_trailer(seq, type)};
  }
};

// <0, 0, >0 as `key` orders before, equal to, or after `entry`; `key_pfx` and `entry_pfx`
// are their key_prefix() at one offset before which the two user keys agree.
inline int compare_to_entry(const SearchKey& key, KeyPrefix key_pfx, KeyPrefix entry_pfx,
                            const char* entry) {
  if (key_pfx != entry_pfx) return key_pfx < entry_pfx ? -1 : 1;
  std::string_view other = entry_internal_key(entry);
  int c = key.user_key.compare(extract_user_key(other));
  if (c != 0) return c;
  std::uint64_t t = extract_trailer(other);
  if (key.trailer == t) return 0;
  return key.trailer > t ? -1 : 1;  // newer (larger trailer) first
}

inline std::string_view entry_user_key(const char* entry) {
  return extract_user_key(entry_internal_key(entry));
}

}  // namespace cascade::engine
