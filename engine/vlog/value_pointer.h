// ValuePointer: where a value separated into the value log lives. It is stored as the
// value of a tree entry whose type is ValueType::kValuePointer (engine/FORMAT.md,
// "Value log").
//
//   pointer = varint64 file_number | varint64 offset | varint64 size
//
// `offset` is the file offset of the value's record and `size` the record's whole size
// (header, key and stored value), so one read of [offset, offset + size) fetches it and the
// sizes of a file's pointers sum to its record bytes (garbage accounting counts them).
// Decoding must consume the bytes exactly: anything else is Corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/format/coding.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct ValuePointer {
  std::uint64_t file_number = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;

  void encode_to(std::string& dst) const {
    put_varint64(dst, file_number);
    put_varint64(dst, offset);
    put_varint64(dst, size);
  }
  std::string encode() const {
    std::string s;
    encode_to(s);
    return s;
  }
  static Result<ValuePointer> decode(std::string_view in) {
    ValuePointer p;
    if (!get_varint64(in, p.file_number) || !get_varint64(in, p.offset) ||
        !get_varint64(in, p.size) || !in.empty()) {
      return Status::corruption("malformed value pointer");
    }
    return p;
  }
  bool operator==(const ValuePointer&) const = default;
};

}  // namespace cascade::engine
