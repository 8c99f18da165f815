// Decimal formatting and Redis's string2ll grammar.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "resp/decimal.h"
#include "resp_test_util.h"

namespace cascade::resp {
namespace {

std::string formatted(std::int64_t v) {
  char buf[kMaxInt64Chars];
  return std::string(buf, format_int64(v, buf));
}

}  // namespace

TEST_CASE("format_int64 matches std::to_string at every digit count and the extremes") {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, kMin, kMax, kMin + 1}) {
    CHECK(formatted(v) == std::to_string(v));
  }
  std::int64_t p = 1;
  for (int digits = 1; digits <= 18; ++digits, p *= 10) {
    for (std::int64_t v : {p, p - 1, p + 1, 10 * p - 1, -p, -(10 * p - 1)}) {
      CHECK(formatted(v) == std::to_string(v));
    }
  }
  char buf[kMaxInt64Chars];
  CHECK(std::string(buf, format_uint64(std::numeric_limits<std::uint64_t>::max(), buf)) ==
        "18446744073709551615");
  std::mt19937_64 rng(testing::test_seed());
  INFO("CASCADE_SEED=" << testing::test_seed());
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::int64_t>(rng() >> (rng() % 64));
    REQUIRE(formatted(v) == std::to_string(v));
  }
}

TEST_CASE("parse_int64 accepts exactly string2ll's numbers") {
  std::int64_t v = 0;
  CHECK(parse_int64("0", &v));
  CHECK(v == 0);
  CHECK(parse_int64("-1", &v));
  CHECK(v == -1);
  CHECK(parse_int64("9223372036854775807", &v));
  CHECK(v == std::numeric_limits<std::int64_t>::max());
  CHECK(parse_int64("-9223372036854775808", &v));
  CHECK(v == std::numeric_limits<std::int64_t>::min());
  for (const char* bad : {"", "-", "-0", "01", "+1", " 1", "1 ", "1x", "9223372036854775808",
                          "-9223372036854775809", "18446744073709551616", "99999999999999999999",
                          "000000000000000000001", "0x10"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_int64(bad, &v));
  }
}

}  // namespace cascade::resp
