// See dump_payload.h for the layout.
#include "src/types/dump_payload.h"

#include <charconv>

#include "engine/format/coding.h"
#include "resp/decimal.h"
#include "src/types/crc64.h"
#include "src/types/lzf.h"

namespace cascade::types {
namespace {

constexpr std::uint8_t kEncInt8 = 0, kEncInt16 = 1, kEncInt32 = 2, kEncLzf = 3;
constexpr std::size_t kFooterSize = 10;

void put_length(std::string& out, std::uint64_t length) {
  if (length < (1u << 6)) {
    out.push_back(static_cast<char>(length));
  } else if (length < (1u << 14)) {
    out.push_back(static_cast<char>(0x40 | (length >> 8)));
    out.push_back(static_cast<char>(length & 0xff));
  } else {
    const bool wide = length > 0xffffffffull;
    out.push_back(static_cast<char>(wide ? 0x81 : 0x80));
    for (int shift = wide ? 56 : 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>(length >> shift));
    }
  }
}

// The value as a 32-bit integer if its text is exactly that integer's canonical decimal.
bool as_int32(std::string_view value, std::int32_t& out) {
  std::int64_t v = 0;
  if (value.empty() || value.size() > 11 || !resp::parse_int64(value, &v)) return false;
  if (v < INT32_MIN || v > INT32_MAX) return false;
  char digits[resp::kMaxInt64Chars];
  if (std::string_view(digits, resp::format_int64(v, digits)) != value) return false;
  out = static_cast<std::int32_t>(v);
  return true;
}

void put_string(std::string& out, std::string_view value) {
  std::int32_t v = 0;
  if (as_int32(value, v)) {
    int bytes = 4;
    std::uint8_t encoding = kEncInt32;
    if (v >= INT8_MIN && v <= INT8_MAX) {
      bytes = 1;
      encoding = kEncInt8;
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
      bytes = 2;
      encoding = kEncInt16;
    }
    out.push_back(static_cast<char>(0xC0 | encoding));
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(u >> (8 * i)));
    return;
  }
  put_length(out, value.size());
  out.append(value);
}

// Reads one length byte sequence; `special` tells an encoding (the low 6 bits) instead.
bool read_length(std::string_view& in, std::uint64_t& length, bool& special) {
  if (in.empty()) return false;
  const auto first = static_cast<std::uint8_t>(in[0]);
  in.remove_prefix(1);
  special = false;
  switch (first >> 6) {
    case 0: length = first & 0x3f; return true;
    case 1:
      if (in.empty()) return false;
      length = ((first & 0x3fu) << 8) | static_cast<std::uint8_t>(in[0]);
      in.remove_prefix(1);
      return true;
    case 3: special = true; length = first & 0x3f; return true;
    default: break;
  }
  const std::size_t bytes = first == 0x80 ? 4 : first == 0x81 ? 8 : 0;
  if (bytes == 0 || in.size() < bytes) return false;
  length = 0;
  for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | static_cast<std::uint8_t>(in[i]);
  in.remove_prefix(bytes);
  return true;
}

bool read_int(std::string_view& in, int bytes, std::string& out) {
  if (in.size() < static_cast<std::size_t>(bytes)) return false;
  std::uint32_t u = 0;
  for (int i = 0; i < bytes; ++i) u |= std::uint32_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(static_cast<std::size_t>(bytes));
  std::int64_t v = bytes == 1 ? static_cast<std::int8_t>(u)
                   : bytes == 2 ? static_cast<std::int16_t>(u)
                                : static_cast<std::int32_t>(u);
  char digits[resp::kMaxInt64Chars];
  out.assign(digits, resp::format_int64(v, digits));
  return true;
}

bool read_string(std::string_view& in, std::string& out) {
  std::uint64_t length = 0;
  bool special = false;
  if (!read_length(in, length, special)) return false;
  if (!special) {
    if (in.size() < length) return false;
    out.assign(in.substr(0, length));
    in.remove_prefix(length);
    return true;
  }
  switch (length) {
    case kEncInt8: return read_int(in, 1, out);
    case kEncInt16: return read_int(in, 2, out);
    case kEncInt32: return read_int(in, 4, out);
    case kEncLzf: break;
    default: return false;
  }
  std::uint64_t compressed = 0, original = 0;
  if (!read_length(in, compressed, special) || special) return false;
  if (!read_length(in, original, special) || special || in.size() < compressed) return false;
  std::optional<std::string> plain = lzf_decompress(in.substr(0, compressed), original);
  if (!plain) return false;
  out = std::move(*plain);
  in.remove_prefix(compressed);
  return true;
}

}  // namespace

std::string dump_string(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 16);
  out.push_back(static_cast<char>(kRdbTypeString));
  put_string(out, value);
  engine::put_fixed16(out, kDumpVersion);
  engine::put_fixed64(out, crc64_jones(0, out));
  return out;
}

DumpedValue restore_string(std::string_view payload) {
  DumpedValue result;
  if (payload.size() < kFooterSize) {
    result.check = DumpCheck::kBadVersionOrChecksum;
    return result;
  }
  const std::string_view body = payload.substr(0, payload.size() - 8);
  const std::uint16_t version = engine::load_fixed16(payload.data() + payload.size() - kFooterSize);
  const std::uint64_t crc = engine::load_fixed64(payload.data() + payload.size() - 8);
  if (version > kDumpVersion || crc64_jones(0, body) != crc) {
    result.check = DumpCheck::kBadVersionOrChecksum;
    return result;
  }
  std::string_view in = payload.substr(0, payload.size() - kFooterSize);
  if (in.empty()) {
    result.check = DumpCheck::kBadFormat;
    return result;
  }
  if (static_cast<std::uint8_t>(in[0]) != kRdbTypeString) {
    result.check = DumpCheck::kUnsupportedType;
    return result;
  }
  in.remove_prefix(1);
  if (!read_string(in, result.value)) result.check = DumpCheck::kBadFormat;
  return result;
}

}  // namespace cascade::types
