// ValuePointer: where a value separated into the value log lives. It is stored as the
// value of a tree entry whose type is ValueType::kValuePointer (engine/FORMAT.md,
// "Value log").
//
//   pointer = varint64 file_number | varint64 offset | varint64 size | head
//
// `offset` is the file offset of the value's record and `size` the record's whole size
// (header, key and stored value), so one read of [offset, offset + size) fetches it and the
// sizes of a file's pointers sum to its record bytes (garbage accounting counts them).
// `head` is every byte after the three varints: a copy of the value's first bytes (at most
// kMaxValueHeadSize; DBOptions::vlog_value_head_size says how many a flush keeps), so a
// reader that needs only the start of a value (the Redis layer's record header, with its
// expiry) finds it in the tree without reading the value log. Pointers written before
// heads existed (table format version 1) have an empty head. A head longer than
// kMaxValueHeadSize, or a truncated varint, is Corruption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/format/coding.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::size_t kMaxValueHeadSize = 64;
// The longest encoded pointer: three varint64s and the longest head.
inline constexpr std::size_t kMaxEncodedPointerSize = 3 * 10 + kMaxValueHeadSize;

struct ValuePointer {
  std::uint64_t file_number = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string head;  // the value's first bytes; may be empty

  void encode_to(std::string& dst) const {
    put_varint64(dst, file_number);
    put_varint64(dst, offset);
    put_varint64(dst, size);
    dst.append(head);
  }
  std::string encode() const {
    std::string s;
    encode_to(s);
    return s;
  }
  static Result<ValuePointer> decode(std::string_view in) {
    ValuePointer p;
    if (!get_varint64(in, p.file_number) || !get_varint64(in, p.offset) ||
        !get_varint64(in, p.size) || in.size() > kMaxValueHeadSize) {
      return Status::corruption("malformed value pointer");
    }
    p.head.assign(in);
    return p;
  }
  bool operator==(const ValuePointer&) const = default;
};

// The head of an encoded pointer, as a view into it without copying; nothing if the
// pointer is malformed (decode() says why) or carries no head.
inline std::optional<std::string_view> value_pointer_head(std::string_view in) {
  std::uint64_t ignored = 0;
  if (!get_varint64(in, ignored) || !get_varint64(in, ignored) || !get_varint64(in, ignored) ||
      in.empty() || in.size() > kMaxValueHeadSize) {
    return std::nullopt;
  }
  return in;
}

}  // namespace cascade::engine
