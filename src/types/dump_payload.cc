// See dump_payload.h for the layout.
#include "src/types/dump_payload.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

#include "engine/format/coding.h"
#include "resp/decimal.h"
#include "src/types/crc64.h"
#include "src/types/lzf.h"
#include "src/types/rdb_containers.h"

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


void append_footer(std::string& out) {
  engine::put_fixed16(out, kDumpVersion);
  engine::put_fixed64(out, crc64_jones(0, out));
}

// The footer check: the body (type and value) when version and checksum are right.
std::optional<std::string_view> checked_body(std::string_view payload) {
  if (payload.size() < kFooterSize) return std::nullopt;
  const std::string_view body = payload.substr(0, payload.size() - 8);
  const std::uint16_t version = engine::load_fixed16(payload.data() + payload.size() - kFooterSize);
  const std::uint64_t crc = engine::load_fixed64(payload.data() + payload.size() - 8);
  if (version > kDumpVersion || crc64_jones(0, body) != crc) return std::nullopt;
  return payload.substr(0, payload.size() - kFooterSize);
}

// A score written as text (RDB_TYPE_ZSET, ziplists, listpacks); false for NaN or junk.
bool parse_score(std::string_view text, double& out) {
  if (text.empty() || text.size() > 256) return false;
  const std::string copy(text);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && !std::isnan(out);
}

// RDB_TYPE_ZSET's score: a length byte (253 nan, 254 inf, 255 -inf), then the text.
bool read_text_score(std::string_view& in, double& out) {
  if (in.empty()) return false;
  const auto length = static_cast<std::uint8_t>(in[0]);
  in.remove_prefix(1);
  if (length == 253) return false;
  if (length == 254 || length == 255) {
    out = length == 254 ? HUGE_VAL : -HUGE_VAL;
    return true;
  }
  if (in.size() < length) return false;
  const bool ok = parse_score(in.substr(0, length), out);
  in.remove_prefix(length);
  return ok;
}

bool read_count(std::string_view& in, std::uint64_t& count) {
  bool special = false;
  return read_length(in, count, special) && !special;
}

bool read_strings(std::string_view& in, std::uint64_t count, std::vector<std::string>& out) {
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string s;
    if (!read_string(in, s)) return false;
    out.push_back(std::move(s));
  }
  return true;
}

// A container string (ziplist, listpack, intset) read by `reader` into `out`.
template <typename Reader>
bool read_container(std::string_view& in, Reader reader, std::vector<std::string>& out) {
  std::string blob;
  return read_string(in, blob) && reader(blob, out);
}

bool pairs_from(std::vector<std::string>& flat, DumpedObject& object) {
  if (flat.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < flat.size(); i += 2) {
    object.pairs.emplace_back(std::move(flat[i]), std::move(flat[i + 1]));
  }
  return true;
}

bool scored_from(std::vector<std::string>& flat, DumpedObject& object) {
  if (flat.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < flat.size(); i += 2) {
    double score = 0;
    if (!parse_score(flat[i + 1], score)) return false;
    object.scored.emplace_back(std::move(flat[i]), score);
  }
  return true;
}

// Decodes the value of RDB type `type`; false on a malformed one. Sets object.type.
bool decode_value(std::uint8_t type, std::string_view& in, DumpedObject& object) {
  std::uint64_t count = 0;
  std::vector<std::string> flat;
  switch (type) {
    case kRdbTypeString:
      object.type = KeyType::kString;
      return read_string(in, object.value);
    case kRdbTypeList:
      object.type = KeyType::kList;
      return read_count(in, count) && read_strings(in, count, object.items);
    case kRdbTypeSet:
      object.type = KeyType::kSet;
      return read_count(in, count) && read_strings(in, count, object.items);
    case 3:  // RDB_TYPE_ZSET: scores as text
      object.type = KeyType::kZSet;
      if (!read_count(in, count)) return false;
      for (std::uint64_t i = 0; i < count; ++i) {
        std::string member;
        double score = 0;
        if (!read_string(in, member) || !read_text_score(in, score)) return false;
        object.scored.emplace_back(std::move(member), score);
      }
      return true;
    case kRdbTypeHash:
      object.type = KeyType::kHash;
      return read_count(in, count) && read_strings(in, 2 * count, flat) &&
             pairs_from(flat, object);
    case kRdbTypeZSet2:
      object.type = KeyType::kZSet;
      if (!read_count(in, count)) return false;
      for (std::uint64_t i = 0; i < count; ++i) {
        std::string member;
        if (!read_string(in, member) || in.size() < 8) return false;
        const double score = std::bit_cast<double>(engine::load_fixed64(in.data()));
        in.remove_prefix(8);
        if (std::isnan(score)) return false;
        object.scored.emplace_back(std::move(member), score);
      }
      return true;
    case 10:  // list as a ziplist
      object.type = KeyType::kList;
      return read_container(in, read_ziplist, object.items);
    case 11:  // set as an intset
      object.type = KeyType::kSet;
      return read_container(in, read_intset, object.items);
    case 12:  // zset as a ziplist
    case 17:  // zset as a listpack
      object.type = KeyType::kZSet;
      return read_container(in, type == 12 ? read_ziplist : read_listpack, flat) &&
             scored_from(flat, object);
    case 13:  // hash as a ziplist
    case 16:  // hash as a listpack
      object.type = KeyType::kHash;
      return read_container(in, type == 13 ? read_ziplist : read_listpack, flat) &&
             pairs_from(flat, object);
    case 14:  // list as a quicklist of ziplists
      object.type = KeyType::kList;
      if (!read_count(in, count)) return false;
      for (std::uint64_t i = 0; i < count; ++i) {
        if (!read_container(in, read_ziplist, object.items)) return false;
      }
      return true;
    case 18:  // list as a quicklist of listpacks (or plain nodes)
      object.type = KeyType::kList;
      if (!read_count(in, count)) return false;
      for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t container = 0;
        if (!read_count(in, container)) return false;
        if (container == 1) {
          std::string element;
          if (!read_string(in, element)) return false;
          object.items.push_back(std::move(element));
        } else if (container != 2 || !read_container(in, read_listpack, object.items)) {
          return false;
        }
      }
      return true;
    default:
      return false;
  }
}

bool known_type(std::uint8_t type) {
  return type <= 5 || (type >= 10 && type <= 14) || type == 16 || type == 17 || type == 18;
}

// Redis refuses empty collections and repeated members when it loads a payload.
bool well_formed(const DumpedObject& object) {
  std::unordered_set<std::string_view> seen;
  switch (object.type) {
    case KeyType::kString: return true;
    case KeyType::kList: return !object.items.empty();
    case KeyType::kSet:
      for (const std::string& m : object.items) {
        if (!seen.insert(m).second) return false;
      }
      return !object.items.empty();
    case KeyType::kHash:
      for (const auto& [field, value] : object.pairs) {
        if (!seen.insert(field).second) return false;
      }
      return !object.pairs.empty();
    case KeyType::kZSet:
      for (const auto& [member, score] : object.scored) {
        if (!seen.insert(member).second) return false;
      }
      return !object.scored.empty();
  }
  return false;
}

}  // namespace

std::string dump_string(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 16);
  out.push_back(static_cast<char>(kRdbTypeString));
  put_string(out, value);
  append_footer(out);
  return out;
}

DumpWriter::DumpWriter(KeyType type, std::uint64_t count) {
  std::uint8_t rdb = kRdbTypeString;
  switch (type) {
    case KeyType::kString: rdb = kRdbTypeString; break;
    case KeyType::kList: rdb = kRdbTypeList; break;
    case KeyType::kSet: rdb = kRdbTypeSet; break;
    case KeyType::kHash: rdb = kRdbTypeHash; break;
    case KeyType::kZSet: rdb = kRdbTypeZSet2; break;
  }
  out_.push_back(static_cast<char>(rdb));
  put_length(out_, count);
}

void DumpWriter::add(std::string_view text) { put_string(out_, text); }

void DumpWriter::add_score(double score) {
  engine::put_fixed64(out_, std::bit_cast<std::uint64_t>(score));
}

std::string DumpWriter::finish() {
  append_footer(out_);
  return std::move(out_);
}

DumpedObject restore_object(std::string_view payload) {
  DumpedObject object;
  std::optional<std::string_view> body = checked_body(payload);
  if (!body) {
    object.check = DumpCheck::kBadVersionOrChecksum;
    return object;
  }
  std::string_view in = *body;
  if (in.empty()) {
    object.check = DumpCheck::kBadFormat;
    return object;
  }
  const auto type = static_cast<std::uint8_t>(in[0]);
  in.remove_prefix(1);
  if (!known_type(type)) {
    object.check = DumpCheck::kUnsupportedType;
    return object;
  }
  if (!decode_value(type, in, object) || !in.empty() || !well_formed(object)) {
    object.check = DumpCheck::kBadFormat;
  }
  return object;
}

}  // namespace cascade::types
