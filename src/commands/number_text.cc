// See number_text.h.
#include "src/commands/number_text.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cascade::commands {

bool parse_long_double(std::string_view text, long double* out) {
  if (text.empty() || text.size() >= kMaxLongDoubleChars) return false;
  char buf[kMaxLongDoubleChars];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  const long double value = std::strtold(buf, &end);
  if (std::isspace(static_cast<unsigned char>(buf[0])) ||
      static_cast<std::size_t>(end - buf) != text.size()) {
    return false;
  }
  if (errno == ERANGE &&
      (value == HUGE_VALL || value == -HUGE_VALL || std::fpclassify(value) == FP_ZERO)) {
    return false;
  }
  if (errno == EINVAL || std::isnan(value)) return false;
  *out = value;
  return true;
}

std::string format_long_double(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[kMaxLongDoubleChars];
  int length = std::snprintf(buf, sizeof buf, "%.17Lf", value);
  if (length < 0 || static_cast<std::size_t>(length) + 1 > sizeof buf) return {};
  if (std::memchr(buf, '.', static_cast<std::size_t>(length)) != nullptr) {
    while (buf[length - 1] == '0') --length;
    if (buf[length - 1] == '.') --length;
  }
  if (length == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, static_cast<std::size_t>(length));
}

}  // namespace cascade::commands
