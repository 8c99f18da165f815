#include "src/server/glob_match.h"

#include <cctype>

namespace cascade::server {
namespace {

unsigned char fold(unsigned char c, bool nocase) {
  return nocase ? static_cast<unsigned char>(std::tolower(c)) : c;
}

// Matches one `[...]` class at p (just past '['); advances p past the closing ']' (or to the
// end if it is missing, where Redis treats the class as ending). Returns whether c matched.
bool match_class(std::string_view pat, std::size_t& p, unsigned char c, bool nocase) {
  bool negate = p < pat.size() && pat[p] == '^';
  if (negate) ++p;
  bool matched = false;
  while (p < pat.size() && pat[p] != ']') {
    if (pat[p] == '\\' && p + 1 < pat.size()) {
      ++p;
      if (fold(pat[p], nocase) == fold(c, nocase)) matched = true;
    } else if (p + 2 < pat.size() && pat[p + 1] == '-') {
      unsigned char lo = fold(pat[p], nocase), hi = fold(pat[p + 2], nocase);
      if (lo > hi) std::swap(lo, hi);
      unsigned char fc = fold(c, nocase);
      if (fc >= lo && fc <= hi) matched = true;
      p += 2;
    } else if (fold(pat[p], nocase) == fold(c, nocase)) {
      matched = true;
    }
    ++p;
  }
  if (p < pat.size()) ++p;  // past ']'
  return negate ? !matched : matched;
}

// Iterative matcher with single-star backtracking: on a mismatch, retry from the last `*`
// consuming one more subject byte. Linear in practice, no recursion, so a hostile pattern
// such as "*a*a*a*a*b" cannot blow the (small) fiber stack.
bool match(std::string_view pat, std::string_view s, bool nocase) {
  std::size_t p = 0, i = 0;
  std::size_t star_p = std::string_view::npos, star_i = 0;
  while (i < s.size()) {
    if (p < pat.size()) {
      char pc = pat[p];
      if (pc == '*') {
        while (p < pat.size() && pat[p] == '*') ++p;
        if (p == pat.size()) return true;
        star_p = p;
        star_i = i;
        continue;
      }
      auto c = static_cast<unsigned char>(s[i]);
      if (pc == '?') {
        ++p;
        ++i;
        continue;
      }
      if (pc == '[') {
        std::size_t q = p + 1;
        if (match_class(pat, q, c, nocase)) {
          p = q;
          ++i;
          continue;
        }
      } else {
        std::size_t q = p;
        if (pc == '\\' && q + 1 < pat.size()) ++q;
        if (fold(pat[q], nocase) == fold(c, nocase)) {
          p = q + 1;
          ++i;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    i = ++star_i;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view subject, bool nocase) {
  return match(pattern, subject, nocase);
}

}  // namespace cascade::server
