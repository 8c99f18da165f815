// Inline argument splitting; the rules are stated in inline_splitter.h.
#include "resp/inline_splitter.h"

namespace cascade::resp {
namespace {

// C-locale isspace: separates arguments and must follow a closing quote.
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The bytes that end an unquoted word (a narrower set than is_blank, as in Redis).
bool ends_word(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char unescape(char c) {
  switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
  }
}

// Decodes one backslash sequence inside double quotes at p (p[0] == '\\', p + 1 < end)
// into `out`; returns the number of source bytes it used.
std::size_t decode_double_quote_escape(const char* p, const char* end, std::string& out) {
  if (end - p >= 4 && p[1] == 'x') {
    const int high = hex_value(p[2]);
    const int low = hex_value(p[3]);
    if (high >= 0 && low >= 0) {
      out.push_back(static_cast<char>(high * 16 + low));
      return 4;
    }
  }
  out.push_back(unescape(p[1]));
  return 2;
}

// Decodes the quoted part starting at the quote *p into `out` and leaves p after the
// closing quote. Returns false when the quote is not closed, or is closed and then
// directly followed by something other than a blank.
bool decode_quoted(const char*& p, const char* end, std::string& out) {
  const char quote = *p++;
  while (p != end) {
    const char c = *p;
    if (c == '\\' && end - p >= 2) {
      if (quote == '"') {
        p += decode_double_quote_escape(p, end, out);
        continue;
      }
      if (p[1] == '\'') {
        out.push_back('\'');
        p += 2;
        continue;
      }
    }
    if (c == quote) {
      ++p;
      return p == end || is_blank(*p);
    }
    out.push_back(c);
    ++p;
  }
  return false;  // still inside the quotes at the end of the line
}

}  // namespace

bool split_inline_args(std::string_view line, std::string& scratch,
                       std::vector<std::string_view>& out) {
  out.clear();
  scratch.clear();
  scratch.reserve(line.size());
  const char* p = line.data();
  const char* const end = p + line.size();
  for (;;) {
    while (p != end && is_blank(*p)) ++p;
    if (p == end) return true;
    const char* const word = p;
    while (p != end && !ends_word(*p) && *p != '"' && *p != '\'') ++p;
    if (p == end || ends_word(*p)) {
      out.emplace_back(word, static_cast<std::size_t>(p - word));  // zero copy
      continue;
    }
    // The word continues with a quoted part: assemble it in scratch.
    const std::size_t start = scratch.size();
    scratch.append(word, static_cast<std::size_t>(p - word));
    if (!decode_quoted(p, end, scratch)) return false;
    out.emplace_back(scratch.data() + start, scratch.size() - start);
  }
}

}  // namespace cascade::resp
