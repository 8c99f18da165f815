// Bit arithmetic on string values for the bit commands (bits.cc, bitfield.cc), apart from
// any IO so it can be tested alone. Bit numbering is Redis's: bit 0 is the most significant
// bit of byte 0, so offset n is bit (7 - n % 8) of byte n / 8. Bits past a string's end
// read as 0.
//
// Ranges (BITCOUNT, BITPOS) follow Redis's index rules: negative indexes count from the
// end, then both ends are clamped into the string; in BYTE units a range covers whole
// bytes, in BIT units single bits. A range is returned in bits, inclusive.
//
// Fields (BITFIELD): a signed field of 1..64 bits or an unsigned one of 1..63, at any bit
// offset, big-endian. Values that do not fit wrap (two's complement truncation), saturate
// at the type's bounds, or fail, as OVERFLOW says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::commands {

struct BitRange {
  std::int64_t first = 0;  // bit offsets, inclusive
  std::int64_t last = -1;
  bool empty() const { return first > last; }
};

// The bits of [start, end] in a string of `length` bytes, the indexes in bytes or bits.
BitRange bit_range(std::size_t length, std::int64_t start, std::int64_t end, bool in_bits);

std::int64_t count_bits(std::string_view s, BitRange range);
// The offset of the first bit equal to `bit` in `range`, or -1.
std::int64_t find_bit(std::string_view s, bool bit, BitRange range);

bool get_bit(std::string_view s, std::uint64_t offset);
// Requires offset / 8 < s.size().
void set_bit(std::string& s, std::uint64_t offset, bool bit);

struct FieldType {
  bool is_signed = false;
  int bits = 0;
};
enum class Overflow : std::uint8_t { kWrap, kSat, kFail };

// "i1".."i64", "u1".."u63" (lower case only, as Redis).
std::optional<FieldType> parse_field_type(std::string_view text);

// The field's value (sign-extended for a signed type).
std::int64_t read_field(std::string_view s, std::uint64_t offset, FieldType type);
// Stores the low type.bits bits of `value`; requires the string to reach the field's end.
void write_field(std::string& s, std::uint64_t offset, FieldType type, std::int64_t value);
// `value` (exact, wider than 64 bits) brought into the type's range by `overflow`; nullopt
// when it does not fit and overflow is kFail.
std::optional<std::int64_t> fit_field(FieldType type, __int128 value, Overflow overflow);

}  // namespace cascade::commands
