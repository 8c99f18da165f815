// See zset_args.h.
#include "src/commands/zset_args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "resp/decimal.h"
#include "src/server/command_table.h"
#include "src/server/error_replies.h"

namespace cascade::commands {

bool parse_score(std::string_view text, double* out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  const std::string copy(text);  // strtod needs a terminator
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (static_cast<std::size_t>(end - copy.c_str()) != copy.size()) return false;
  if (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL ||
                          std::fpclassify(value) == FP_ZERO)) {
    return false;
  }
  if (std::isnan(value)) return false;
  *out = value;
  return true;
}

namespace {

// One bound of a score range; the C string ends at the first NUL, as in Redis.
bool parse_score_bound(std::string_view text, double* value, bool* exclusive) {
  const std::string copy(text);
  const char* start = copy.c_str();
  *exclusive = start[0] == '(';
  if (*exclusive) ++start;
  char* end = nullptr;
  *value = std::strtod(start, &end);
  return end[0] == '\0' && !std::isnan(*value);
}

bool parse_lex_bound(std::string_view text, LexBound* bound) {
  if (text.empty()) return false;
  switch (text[0]) {
    case '+':
    case '-':
      if (text.size() > 1 && text[1] != '\0') return false;
      bound->kind = text[0] == '+' ? LexBound::Kind::kPlusInfinity : LexBound::Kind::kMinusInfinity;
      bound->exclusive = true;
      return true;
    case '(':
    case '[':
      bound->kind = LexBound::Kind::kValue;
      bound->exclusive = text[0] == '(';
      bound->value.assign(text.substr(1));
      return true;
    default:
      return false;
  }
}

// Order of a member against a bound, the infinities below and above every member.
int compare(std::string_view member, const LexBound& bound) {
  if (bound.kind == LexBound::Kind::kMinusInfinity) return 1;
  if (bound.kind == LexBound::Kind::kPlusInfinity) return -1;
  const int c = member.compare(bound.value);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

std::optional<ScoreRange> parse_score_range(std::string_view min, std::string_view max) {
  ScoreRange range;
  if (!parse_score_bound(min, &range.min, &range.min_exclusive) ||
      !parse_score_bound(max, &range.max, &range.max_exclusive)) {
    return std::nullopt;
  }
  return range;
}

std::optional<LexRange> parse_lex_range(std::string_view min, std::string_view max) {
  LexRange range;
  if (!parse_lex_bound(min, &range.min) || !parse_lex_bound(max, &range.max)) return std::nullopt;
  return range;
}

bool LexRange::above_min(std::string_view member) const {
  const int c = compare(member, min);
  return min.exclusive ? c > 0 : c >= 0;
}

bool LexRange::below_max(std::string_view member) const {
  const int c = compare(member, max);
  return max.exclusive ? c < 0 : c <= 0;
}

// Redis compares the two bounds themselves: equal infinities are equal, -inf is below and
// +inf above everything else.
bool LexRange::empty() const {
  int c = 0;
  using Kind = LexBound::Kind;
  if (min.kind == max.kind && min.kind != Kind::kValue) {
    c = 0;
  } else if (min.kind == Kind::kMinusInfinity || max.kind == Kind::kPlusInfinity) {
    c = -1;
  } else if (min.kind == Kind::kPlusInfinity || max.kind == Kind::kMinusInfinity) {
    c = 1;
  } else {
    c = min.value.compare(max.value);
  }
  return c > 0 || (c == 0 && (min.exclusive || max.exclusive));
}

namespace {

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Redis's order: options first (a bad one is a syntax error, LIMIT's numbers are checked as
// they come), then the option conflicts, then the range itself.
std::string_view parse_zrange(std::span<const std::string_view> args, std::size_t key,
                              bool store, bool reverse_preset, ZRangeRequest* request) {
  using By = ZRangeRequest::By;
  const By preset = request->by;
  bool limited = false;
  for (std::size_t j = key + 3; j < args.size(); ++j) {
    const std::size_t left = args.size() - j - 1;
    const std::string_view opt = args[j];
    if (!store && equals_nocase(opt, "withscores")) {
      request->withscores = true;
    } else if (equals_nocase(opt, "limit") && left >= 2) {
      if (!resp::parse_int64(args[j + 1], &request->offset) ||
          !resp::parse_int64(args[j + 2], &request->count)) {
        return server::kErrNotInteger;
      }
      limited = true;
      j += 2;
    } else if (!reverse_preset && !request->reverse && equals_nocase(opt, "rev")) {
      request->reverse = true;
    } else if (preset == By::kAuto && request->by == By::kAuto && equals_nocase(opt, "bylex")) {
      request->by = By::kLex;
    } else if (preset == By::kAuto && request->by == By::kAuto && equals_nocase(opt, "byscore")) {
      request->by = By::kScore;
    } else {
      return server::kErrSyntax;
    }
  }
  if (request->by == By::kAuto) request->by = By::kRank;
  // Redis tests the limit by value: LIMIT 0 -1 is no limit, even with a rank range.
  if (limited && request->count != -1 && request->by == By::kRank) return kErrLimitNeedsBy;
  if (request->withscores && request->by == By::kLex) return kErrWithscoresBylex;
  std::string_view min = args[key + 1];
  std::string_view max = args[key + 2];
  if (request->reverse && request->by != By::kRank) std::swap(min, max);
  switch (request->by) {
    case By::kScore: {
      std::optional<ScoreRange> range = parse_score_range(min, max);
      if (!range) return kErrMinMaxNotFloat;
      request->score = *range;
      break;
    }
    case By::kLex: {
      std::optional<LexRange> range = parse_lex_range(min, max);
      if (!range) return kErrMinMaxNotLex;
      request->lex = std::move(*range);
      break;
    }
    default:
      if (!resp::parse_int64(min, &request->start) || !resp::parse_int64(max, &request->stop)) {
        return server::kErrNotInteger;
      }
  }
  return {};
}

std::string_view parse_zmpop_args(std::span<const std::string_view> args, std::size_t first,
                                  ZmpopArgs& out) {
  std::int64_t numkeys = 0;
  if (!resp::parse_int64(args[first], &numkeys) || numkeys < 1) return kErrNumkeysPositive;
  if (static_cast<std::uint64_t>(numkeys) >= args.size() - first - 1) return server::kErrSyntax;
  const std::size_t where = first + 1 + static_cast<std::size_t>(numkeys);
  if (server::equals_ignore_case(args[where], "max")) out.max = true;
  else if (server::equals_ignore_case(args[where], "min")) out.max = false;
  else return server::kErrSyntax;
  bool counted = false;
  for (std::size_t j = where + 1; j < args.size(); ++j) {
    if (counted || !server::equals_ignore_case(args[j], "count") || j + 1 >= args.size()) {
      return server::kErrSyntax;
    }
    ++j;
    if (!resp::parse_int64(args[j], &out.count) || out.count < 1) return kErrCountPositive;
    counted = true;
  }
  if (!counted) out.count = 1;
  out.keys.assign(args.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                  args.begin() + static_cast<std::ptrdiff_t>(where));
  return {};
}

}  // namespace cascade::commands

