// Decimal integers as RESP writes and reads them.
//
// Writing: format_uint64/format_int64 put the shortest decimal form of a value (a leading
// "-" for negatives, no "+", no leading zeros) at `out` and return its length. They are on
// the reply writer's hot path (every length header and integer reply), so they avoid
// snprintf and locale: digits are produced two at a time from a 200-byte table.
//
// Reading: parse_int64 accepts exactly what Redis's string2ll accepts, because the protocol
// errors clients see depend on it: 1 to 20 bytes, an optional "-", then either "0" alone
// or a digit 1-9 followed by digits; no "+", no spaces, no leading zeros, no "-0"; the
// value must fit in int64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace cascade::resp {

inline constexpr std::size_t kMaxInt64Chars = 20;  // "-9223372036854775808"

namespace detail {
inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline std::size_t decimal_digits(std::uint64_t v) {
  std::size_t n = 1;
  for (;;) {
    if (v < 10) return n;
    if (v < 100) return n + 1;
    if (v < 1000) return n + 2;
    if (v < 10000) return n + 3;
    v /= 10000;
    n += 4;
  }
}
}  // namespace detail

// Writes v at out (room for kMaxInt64Chars bytes needed); returns the number of bytes.
inline std::size_t format_uint64(std::uint64_t v, char* out) {
  const std::size_t len = detail::decimal_digits(v);
  char* p = out + len;
  while (v >= 100) {
    const std::size_t pair = static_cast<std::size_t>(v % 100) * 2;
    v /= 100;
    p -= 2;
    std::memcpy(p, detail::kDigitPairs + pair, 2);
  }
  if (v >= 10) {
    p -= 2;
    std::memcpy(p, detail::kDigitPairs + v * 2, 2);
  } else {
    *--p = static_cast<char>('0' + v);
  }
  return len;
}

inline std::size_t format_int64(std::int64_t v, char* out) {
  if (v >= 0) return format_uint64(static_cast<std::uint64_t>(v), out);
  *out = '-';
  // Negate in unsigned arithmetic so INT64_MIN does not overflow.
  return 1 + format_uint64(0 - static_cast<std::uint64_t>(v), out + 1);
}

// Redis string2ll semantics (see the file comment). Returns false when s is not a number.
bool parse_int64(std::string_view s, std::int64_t* out);

}  // namespace cascade::resp
