// See bit_ops.h.
#include "src/commands/bit_ops.h"

#include <bit>

namespace cascade::commands {

BitRange bit_range(std::size_t length, std::int64_t start, std::int64_t end, bool in_bits) {
  const std::int64_t total = static_cast<std::int64_t>(length) * (in_bits ? 8 : 1);
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return {};
  if (in_bits) return {start, end};
  return {start * 8, end * 8 + 7};
}

bool get_bit(std::string_view s, std::uint64_t offset) {
  const std::uint64_t byte = offset >> 3;
  if (byte >= s.size()) return false;
  return (static_cast<std::uint8_t>(s[byte]) >> (7 - (offset & 7))) & 1;
}

void set_bit(std::string& s, std::uint64_t offset, bool bit) {
  auto& byte = reinterpret_cast<unsigned char&>(s[offset >> 3]);
  const auto mask = static_cast<unsigned char>(1u << (7 - (offset & 7)));
  byte = bit ? (byte | mask) : (byte & ~mask);
}

std::int64_t count_bits(std::string_view s, BitRange range) {
  std::int64_t count = 0;
  std::int64_t i = range.first;
  for (; i <= range.last && (i & 7) != 0; ++i) count += get_bit(s, i);
  for (; i + 7 <= range.last; i += 8) {
    count += std::popcount(static_cast<unsigned char>(s[static_cast<std::size_t>(i >> 3)]));
  }
  for (; i <= range.last; ++i) count += get_bit(s, i);
  return count;
}

std::int64_t find_bit(std::string_view s, bool bit, BitRange range) {
  const unsigned char skip = bit ? 0x00 : 0xFF;  // a byte that cannot hold the bit
  std::int64_t i = range.first;
  while (i <= range.last) {
    if ((i & 7) == 0 && i + 7 <= range.last &&
        static_cast<unsigned char>(s[static_cast<std::size_t>(i >> 3)]) == skip) {
      i += 8;
      continue;
    }
    if (get_bit(s, i) == bit) return i;
    ++i;
  }
  return -1;
}

std::optional<FieldType> parse_field_type(std::string_view text) {
  if (text.size() < 2 || text.size() > 3 || (text[0] != 'i' && text[0] != 'u')) return {};
  int bits = 0;
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return {};
    bits = bits * 10 + (c - '0');
  }
  const bool is_signed = text[0] == 'i';
  if (bits < 1 || bits > (is_signed ? 64 : 63)) return {};
  return FieldType{is_signed, bits};
}

std::int64_t read_field(std::string_view s, std::uint64_t offset, FieldType type) {
  std::uint64_t raw = 0;
  for (int i = 0; i < type.bits; ++i) raw = (raw << 1) | get_bit(s, offset + i);
  if (type.is_signed && type.bits < 64 && (raw >> (type.bits - 1)) != 0) {
    raw |= ~std::uint64_t{0} << type.bits;  // sign extension
  }
  return static_cast<std::int64_t>(raw);
}

void write_field(std::string& s, std::uint64_t offset, FieldType type, std::int64_t value) {
  const auto raw = static_cast<std::uint64_t>(value);
  for (int i = 0; i < type.bits; ++i) {
    set_bit(s, offset + i, (raw >> (type.bits - 1 - i)) & 1);
  }
}

std::optional<std::int64_t> fit_field(FieldType type, __int128 value, Overflow overflow) {
  const __int128 one = 1;
  const __int128 min = type.is_signed ? -(one << (type.bits - 1)) : 0;
  const __int128 max = type.is_signed ? (one << (type.bits - 1)) - 1 : (one << type.bits) - 1;
  if (value >= min && value <= max) return static_cast<std::int64_t>(value);
  switch (overflow) {
    case Overflow::kFail: return std::nullopt;
    case Overflow::kSat: return static_cast<std::int64_t>(value < min ? min : max);
    case Overflow::kWrap: break;
  }
  const auto low = static_cast<std::uint64_t>(value);  // value mod 2^64
  const std::uint64_t mask = type.bits == 64 ? ~std::uint64_t{0}
                                             : (std::uint64_t{1} << type.bits) - 1;
  FieldType as_read = type;
  std::string bytes(8, '\0');
  write_field(bytes, 0, {false, 64}, static_cast<std::int64_t>(low & mask));
  return read_field(bytes, 64 - type.bits, as_read);
}

}  // namespace cascade::commands
