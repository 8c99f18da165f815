// Shared resp test helpers; see resp_test_util.h.
#include "resp_test_util.h"

#include "tests/support/test_seed.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace cascade::resp::testing {

std::uint64_t test_seed() {
  // One seed per process: every randomized resp test derives from it.
  static const std::uint64_t seed = ::cascade::testing::test_seed("resp tests");
  return seed;
}

namespace {

// The connection's buffer. With `relocate`, the kept bytes move to a new heap block on
// every change and the old block is scribbled over, so a pointer kept by the parser shows.
class MovingBuffer {
 public:
  explicit MovingBuffer(bool relocate) : relocate_(relocate) {}
  void append(std::string_view bytes) {
    if (!relocate_) {
      data_.append(bytes);
      return;
    }
    std::string next(data_.data(), data_.size());
    next.append(bytes);
    replace(std::move(next));
  }
  void consume(std::size_t n) {
    if (n == 0) return;
    if (!relocate_) {
      data_.erase(0, n);
      return;
    }
    replace(data_.substr(n));
  }
  std::string_view view() const { return data_; }

 private:
  void replace(std::string next) {
    std::memset(data_.data(), 0x5a, data_.size());
    data_ = std::move(next);
    data_.reserve(data_.size() + 64);  // a new heap block for the kept bytes
  }
  bool relocate_;
  std::string data_;
};

}  // namespace

Transcript feed(RequestParser& parser, std::string_view stream,
                const std::vector<std::size_t>& cuts, bool relocate) {
  Transcript t;
  MovingBuffer buffer(relocate);
  std::size_t sent = 0;
  auto arrive = [&](std::size_t upto) {
    buffer.append(stream.substr(sent, upto - sent));
    sent = upto;
    for (;;) {
      const ParseResult r = parser.parse(buffer.view());
      if (r.status == ParseStatus::kCommand) {
        Command c;
        for (std::string_view a : parser.args()) c.emplace_back(a);
        t.commands.push_back(std::move(c));
        t.inline_flags.push_back(parser.last_was_inline());
        buffer.consume(r.consumed);
        continue;
      }
      buffer.consume(r.consumed);
      if (r.status == ParseStatus::kError) {
        t.error = parser.error();
        t.error_message = std::string(parser.error_message());
        return false;
      }
      return true;
    }
  };
  for (std::size_t cut : cuts) {
    if (!arrive(cut)) return t;
  }
  if (!arrive(stream.size())) return t;
  t.pending = buffer.view().size();
  return t;
}

Transcript feed_whole(std::string_view stream, std::int64_t max_bulk_len) {
  RequestParser parser(max_bulk_len);
  return feed(parser, stream, {});
}

Transcript feed_bytewise(std::string_view stream) {
  RequestParser parser;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  return feed(parser, stream, cuts);
}

std::string encode_multibulk(const Command& command) {
  std::string out = "*" + std::to_string(command.size()) + "\r\n";
  for (const std::string& arg : command) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

namespace {

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string random_word(std::mt19937_64& rng, std::size_t n) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-.{}$*";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(kAlphabet[rng() % kAlphabet.size()]);
  return s;
}

std::string double_quoted(std::mt19937_64& rng, std::string_view arg) {
  static constexpr char kHex[] = "0123456789abcdefABCDEF";
  std::string out = "\"";
  for (char c : arg) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; continue;
      case '"': out += "\\\""; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\a': out += "\\a"; continue;
      case '\b': out += "\\b"; continue;
      default: break;
    }
    if (u < 0x20 || u >= 0x7f || rng() % 8 == 0) {
      // \xHH, hex digits in either case
      const char* hi = kHex + (u >> 4) + ((u >> 4) >= 10 && rng() % 2 ? 6 : 0);
      const char* lo = kHex + (u & 15) + ((u & 15) >= 10 && rng() % 2 ? 6 : 0);
      out += "\\x";
      out += *hi;
      out += *lo;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Single quotes can carry any byte but a line end or NUL; only ' needs escaping, and the
// content must not end in a backslash (it would escape the closing quote).
bool single_quotable(std::string_view arg) {
  if (!arg.empty() && arg.back() == '\\') return false;
  return arg.find_first_of(std::string_view("\n\0", 2)) == std::string_view::npos;
}

std::string single_quoted(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out += "\\'";
    else out += c;
  }
  return out + "'";
}

bool bare_ok(std::string_view arg) {
  return !arg.empty() &&
         arg.find_first_of(std::string_view(" \t\n\v\f\r\"'\0", 10)) == std::string_view::npos;
}

std::string random_inline_arg(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return "";
    case 1: return random_bytes(rng, rng() % 12);
    case 2: return random_word(rng, 1 + rng() % 8) + " " + random_word(rng, rng() % 4);
    default: return random_word(rng, 1 + rng() % 10);
  }
}

std::string encode_inline_arg(std::mt19937_64& rng, const std::string& arg) {
  if (bare_ok(arg)) {
    const int style = static_cast<int>(rng() % 4);
    if (style == 0) return double_quoted(rng, arg);
    if (style == 1 && single_quotable(arg)) return single_quoted(arg);
    if (style == 2 && arg.size() > 1) {  // a bare prefix then a quoted rest: ab"cd"
      const std::size_t split = 1 + rng() % (arg.size() - 1);
      return arg.substr(0, split) + double_quoted(rng, arg.substr(split));
    }
    return arg;
  }
  if (single_quotable(arg) && rng() % 2 == 0) return single_quoted(arg);
  return double_quoted(rng, arg);
}

void add_inline(std::mt19937_64& rng, GeneratedStream& out) {
  static constexpr std::string_view kBlanks[] = {" ", "  ", "\t", " \t "};
  Command c{random_word(rng, 1 + rng() % 6)};
  c[0][0] = 'A' + static_cast<char>(rng() % 26);  // never '*': that would be multibulk
  const std::size_t extra = rng() % 5;
  for (std::size_t i = 0; i < extra; ++i) c.push_back(random_inline_arg(rng));
  std::string line = rng() % 4 == 0 ? " " : "";
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (i > 0) line += kBlanks[rng() % 4];
    line += encode_inline_arg(rng, c[i]);
  }
  if (rng() % 4 == 0) line += " ";
  out.bytes += line;
  out.bytes += rng() % 3 == 0 ? "\n" : "\r\n";
  out.commands.push_back(std::move(c));
}

void add_multibulk(std::mt19937_64& rng, GeneratedStream& out, bool large_args) {
  Command c{random_word(rng, 1 + rng() % 8)};
  const std::size_t extra = rng() % 6;
  for (std::size_t i = 0; i < extra; ++i) {
    const auto kind = rng() % 16;
    if (kind == 0) c.emplace_back();
    else if (kind == 1 && large_args) c.push_back(random_bytes(rng, 1000 + rng() % 5000));
    else if (kind < 6) c.push_back(std::string("\r\n*1\r\n$3\r\n\0x", 12));
    else c.push_back(random_bytes(rng, rng() % 40));
  }
  out.bytes += encode_multibulk(c);
  out.commands.push_back(std::move(c));
}

}  // namespace

GeneratedStream generate_stream(std::mt19937_64& rng, std::size_t count, bool large_args) {
  GeneratedStream out;
  while (out.commands.size() < count) {
    const auto kind = rng() % 20;
    if (kind == 0) {
      static constexpr std::string_view kNothing[] = {"*0\r\n", "*-1\r\n", "\r\n", "\n",
                                                      "  \t\r\n", "*-42\r\n"};
      out.bytes += kNothing[rng() % 6];
    } else if (kind < 8) {
      add_inline(rng, out);
    } else {
      add_multibulk(rng, out, large_args);
    }
  }
  return out;
}

}  // namespace cascade::resp::testing
