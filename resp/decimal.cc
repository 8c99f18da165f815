// parse_int64: the strict decimal grammar of Redis's string2ll (see decimal.h).
#include "resp/decimal.h"

#include <limits>

namespace cascade::resp {

bool parse_int64(std::string_view s, std::int64_t* out) {
  if (s.empty() || s.size() > kMaxInt64Chars) return false;
  if (s == "0") {
    *out = 0;
    return true;
  }
  bool negative = false;
  if (s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
    if (s.empty()) return false;
  }
  if (s.front() < '1' || s.front() > '9') return false;  // no leading zero, no "-0"
  // At most 20 digits remain; accumulate in unsigned with an explicit overflow check.
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (v > kMax + 1) return false;
    *out = static_cast<std::int64_t>(0 - v);
  } else {
    if (v > kMax) return false;
    *out = static_cast<std::int64_t>(v);
  }
  return true;
}

}  // namespace cascade::resp
