// The sorted-set commands' argument grammar, read exactly as Redis 7.0 reads it (clients
// rely on which inputs are accepted and on the error texts), and the range tests built on
// it. Pure functions; any thread.
//
//   score      ZADD, ZINCRBY, weights: strtod over the whole argument; empty, a leading
//              space, trailing bytes, overflow (or underflow to zero) and NaN are refused
//              ("value is not a valid float"). "inf", "-inf", "+inf", hex floats pass.
//   score bound  ZRANGEBYSCORE min/max: an optional '(' (exclusive), then strtod up to the
//              first NUL byte, which must be where parsing stopped; NaN refused. So "" and
//              "(" read as 0, and overflow is just +-inf ("min or max is not a float").
//   lex bound  '-' or '+' alone (strictly below / above every member), '[' inclusive or
//              '(' exclusive followed by the member bytes; anything else is refused ("min
//              or max not valid string range item").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::commands {

inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrScoreNaN = "ERR resulting score is not a number (NaN)";
inline constexpr std::string_view kErrMinMaxNotFloat = "ERR min or max is not a float";
inline constexpr std::string_view kErrMinMaxNotLex = "ERR min or max not valid string range item";
inline constexpr std::string_view kErrZaddXxNx =
    "ERR XX and NX options at the same time are not compatible";
inline constexpr std::string_view kErrZaddGtLtNx =
    "ERR GT, LT, and/or NX options at the same time are not compatible";
inline constexpr std::string_view kErrZaddIncrPairs =
    "ERR INCR option supports a single increment-element pair";
inline constexpr std::string_view kErrLimitNeedsBy =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
inline constexpr std::string_view kErrWithscoresBylex =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
inline constexpr std::string_view kErrPositive = "ERR value is out of range, must be positive";
inline constexpr std::string_view kErrOutOfRange = "ERR value is out of range";
inline constexpr std::string_view kErrNumkeysPositive = "ERR numkeys should be greater than 0";
inline constexpr std::string_view kErrCountPositive = "ERR count should be greater than 0";
inline constexpr std::string_view kErrWeightNotFloat = "ERR weight value is not a float";
inline constexpr std::string_view kErrLimitNegative = "ERR LIMIT can't be negative";

bool parse_score(std::string_view text, double* out);

struct ScoreRange {
  double min = 0, max = 0;
  bool min_exclusive = false, max_exclusive = false;

  bool above_min(double score) const { return min_exclusive ? score > min : score >= min; }
  bool below_max(double score) const { return max_exclusive ? score < max : score <= max; }
  bool contains(double score) const { return above_min(score) && below_max(score); }
  // No score can be inside (min > max, or min == max with an exclusive end).
  bool empty() const { return min > max || (min == max && (min_exclusive || max_exclusive)); }
};
std::optional<ScoreRange> parse_score_range(std::string_view min, std::string_view max);

struct LexBound {
  enum class Kind : std::uint8_t { kMinusInfinity, kValue, kPlusInfinity };
  Kind kind = Kind::kValue;
  std::string value;
  bool exclusive = false;
};
struct LexRange {
  LexBound min, max;

  bool above_min(std::string_view member) const;
  bool below_max(std::string_view member) const;
  bool contains(std::string_view member) const { return above_min(member) && below_max(member); }
  // No member can be inside.
  bool empty() const;
};
std::optional<LexRange> parse_lex_range(std::string_view min, std::string_view max);

// ZRANGE's arguments (and those of ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE,
// Z[REV]RANGEBYLEX, which fix `by` or `reverse` in advance and refuse the option that
// would set them again).
struct ZRangeRequest {
  enum class By : std::uint8_t { kAuto, kRank, kScore, kLex };
  By by = By::kAuto;
  bool reverse = false;
  bool withscores = false;
  std::int64_t start = 0, stop = 0;  // by rank
  ScoreRange score;
  LexRange lex;
  std::int64_t offset = 0, count = -1;  // LIMIT
};
// Reads args[key + 1...] (key is the source key's index: min, max, then options) into
// `request`, whose `by` and `reverse` are preset by the command (kAuto: ZRANGE's options
// may set it). `store`: ZRANGESTORE, where WITHSCORES is a syntax error. Returns Redis's
// error text, empty when the arguments are valid.
std::string_view parse_zrange(std::span<const std::string_view> args, std::size_t key,
                              bool store, bool reverse_preset, ZRangeRequest* request);

// ZMPOP's and BZMPOP's arguments: numkeys key... MIN|MAX [COUNT count], from args[first]
// (the numkeys argument) to the end. Returns Redis's error text, or empty when they parse;
// `out.keys` views into args.
struct ZmpopArgs {
  std::vector<std::string_view> keys;
  bool max = false;
  std::int64_t count = 1;
};
std::string_view parse_zmpop_args(std::span<const std::string_view> args, std::size_t first,
                                  ZmpopArgs& out);

}  // namespace cascade::commands
