// Numbers in string values, read and written exactly as Redis 7.0 does, since clients see
// both the results and the errors:
//
//   integers  resp::parse_int64 (string2ll): "-?(0|[1-9][0-9]*)" fitting int64, at most 20
//             bytes; the result is written in its shortest decimal form.
//   floats    parse_long_double (string2ld): what strtold accepts of the whole value, at
//             most kMaxLongDoubleChars - 1 bytes, no leading space, no NaN, no overflow to
//             +-HUGE_VAL or underflow to zero ("inf" itself is accepted). The result is
//             written by format_long_double: "%.17Lf" with trailing zeros (and a bare
//             point) removed, "-0" as "0", no exponent; a result needing kMaxLongDoubleChars
//             or more is the empty string, as in Redis.
// long double is x87 80-bit extended precision on x86-64 with g++, as in Redis's builds.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cascade::commands {

inline constexpr std::size_t kMaxLongDoubleChars = 5 * 1024;

bool parse_long_double(std::string_view text, long double* out);
std::string format_long_double(long double value);

}  // namespace cascade::commands
