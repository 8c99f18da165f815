#include "src/commands/bit_ops.h"

#include <doctest/doctest.h>

using namespace cascade::commands;

TEST_CASE("bit 0 is the most significant bit of the first byte") {
  const std::string s("\x80\x01", 2);
  CHECK(get_bit(s, 0));
  CHECK_FALSE(get_bit(s, 7));
  CHECK(get_bit(s, 15));
  CHECK_FALSE(get_bit(s, 1000));
}

TEST_CASE("ranges follow Redis's negative and clamping rules, in bytes or bits") {
  BitRange r = bit_range(5, 0, -1, false);
  CHECK(r.first == 0);
  CHECK(r.last == 39);
  r = bit_range(5, -2, -1, true);
  CHECK(r.first == 38);
  CHECK(r.last == 39);
  CHECK(bit_range(5, 3, 1, false).empty());
  CHECK(bit_range(0, 0, -1, false).empty());
  r = bit_range(2, -100, 100, false);
  CHECK(r.first == 0);
  CHECK(r.last == 15);
}

TEST_CASE("counting and finding bits inside a range") {
  const std::string s = "12345";
  CHECK(count_bits(s, bit_range(s.size(), 0, -1, true)) == 17);
  CHECK(count_bits(s, bit_range(s.size(), -2, -1, true)) == 1);
  CHECK(find_bit(s, true, bit_range(s.size(), 2, -1, false)) == 18);
  CHECK(find_bit(s, false, bit_range(s.size(), 3, -1, true)) == 4);
  CHECK(find_bit(std::string(3, '\xff'), false, bit_range(3, 0, -1, false)) == -1);
}

TEST_CASE("field types are i1..i64 and u1..u63, lower case") {
  CHECK(parse_field_type("i64")->bits == 64);
  CHECK(parse_field_type("u63")->bits == 63);
  CHECK_FALSE(parse_field_type("u64"));
  CHECK_FALSE(parse_field_type("i0"));
  CHECK_FALSE(parse_field_type("I8"));
  CHECK_FALSE(parse_field_type("i"));
}

TEST_CASE("fields read and write big-endian at any bit offset") {
  std::string s(3, '\0');
  write_field(s, 4, {false, 12}, 0xABC);
  CHECK(s == std::string("\x0a\xbc\x00", 3));
  CHECK(read_field(s, 4, {false, 12}) == 0xABC);
  CHECK(read_field(s, 4, {true, 4}) == -6);  // 1010
  write_field(s, 0, {true, 8}, -1);
  CHECK(read_field(s, 0, {false, 8}) == 255);
}

TEST_CASE("overflow wraps, saturates or fails") {
  const FieldType u8{false, 8}, i8{true, 8}, i64{true, 64};
  CHECK(fit_field(u8, 300, Overflow::kWrap) == 44);
  CHECK(fit_field(u8, 300, Overflow::kSat) == 255);
  CHECK(fit_field(u8, -1, Overflow::kSat) == 0);
  CHECK_FALSE(fit_field(u8, 256, Overflow::kFail));
  CHECK(fit_field(i8, 128, Overflow::kWrap) == -128);
  CHECK(fit_field(i8, -129, Overflow::kSat) == -128);
  CHECK(fit_field(i64, __int128{INT64_MAX} + 1, Overflow::kWrap) == INT64_MIN);
  CHECK(fit_field(i64, __int128{INT64_MAX} + 1, Overflow::kSat) == INT64_MAX);
}
