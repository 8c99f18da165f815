#include "src/commands/number_text.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

using namespace cascade::commands;

namespace {

bool parses(std::string_view text, long double expected) {
  long double value = 0;
  return parse_long_double(text, &value) && value == expected;
}

bool rejected(std::string_view text) {
  long double value = 0;
  return !parse_long_double(text, &value);
}

}  // namespace

TEST_CASE("floats parse as Redis's string2ld does") {
  CHECK(parses("1.5", 1.5L));
  CHECK(parses("-2", -2.0L));
  CHECK(parses("3.0e3", 3000.0L));
  CHECK(parses("+1", 1.0L));
  CHECK(parses("0x10", 16.0L));
  CHECK(parses("inf", HUGE_VALL));
  CHECK(parses("1e400", 1e400L));  // fits a long double
  CHECK(rejected(""));
  CHECK(rejected(" 1"));
  CHECK(rejected("1 "));
  CHECK(rejected("abc"));
  CHECK(rejected("nan"));
  CHECK(rejected("1e5000"));   // overflows to infinity
  CHECK(rejected("1e-5000"));  // underflows to zero
  CHECK(rejected(std::string_view("5\0", 2)));
  CHECK(rejected(std::string(kMaxLongDoubleChars, '1')));
}

TEST_CASE("floats are written without exponent or trailing zeros") {
  CHECK(format_long_double(3000.0L) == "3000");
  CHECK(format_long_double(1.5L) == "1.5");
  CHECK(format_long_double(0.1L) == "0.1");  // 17 digits of a long double
  CHECK(format_long_double(0.1L + -0.1L) == "0");
  CHECK(format_long_double(-0.0L) == "0");
  CHECK(format_long_double(-2.25L) == "-2.25");
  CHECK(format_long_double(1e20L) == "100000000000000000000");
  CHECK(format_long_double(HUGE_VALL) == "inf");
}
