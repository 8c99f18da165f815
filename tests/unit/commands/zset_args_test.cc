// The sorted-set argument grammar (src/commands/zset_args.h), case by case as Redis 7.0
// reads it.
#include "src/commands/zset_args.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace cascade::commands;

namespace {

bool score(std::string_view text, double expected) {
  double v = 0;
  return parse_score(text, &v) && (v == expected);
}

bool bad_score(std::string_view text) {
  double v = 0;
  return !parse_score(text, &v);
}

}  // namespace

TEST_CASE("scores parse as Redis's getDoubleFromObject") {
  CHECK(score("1", 1));
  CHECK(score("-1.5", -1.5));
  CHECK(score("inf", INFINITY));
  CHECK(score("+inf", INFINITY));
  CHECK(score("-inf", -INFINITY));
  CHECK(score("0x10", 16));
  CHECK(score("1e-310", 1e-310));  // a denormal, not an underflow to zero
  CHECK(bad_score(""));
  CHECK(bad_score(" 1"));
  CHECK(bad_score("1 "));
  CHECK(bad_score("nan"));
  CHECK(bad_score("1e400"));
  CHECK(bad_score("1e-400"));
  CHECK(bad_score(std::string_view("1\0", 2)));
  CHECK(bad_score("abc"));
}

TEST_CASE("score ranges take '(' for exclusive ends and read up to a NUL") {
  auto r = parse_score_range("(1", "+inf");
  REQUIRE(r);
  CHECK(r->min == 1);
  CHECK(r->min_exclusive);
  CHECK_FALSE(r->max_exclusive);
  CHECK(r->contains(2));
  CHECK_FALSE(r->contains(1));
  r = parse_score_range("", "(");
  REQUIRE(r);
  CHECK(r->min == 0);
  CHECK(r->max == 0);
  CHECK(r->empty());
  r = parse_score_range(std::string_view("5\0x", 3), "1e400");
  REQUIRE(r);
  CHECK(r->min == 5);
  CHECK(std::isinf(r->max));
  CHECK_FALSE(parse_score_range("x", "1"));
  CHECK_FALSE(parse_score_range("1", "nan"));
  CHECK_FALSE(parse_score_range("1", "1 x"));
  CHECK(parse_score_range("3", "1")->empty());
  CHECK(parse_score_range("(1", "1")->empty());
  CHECK_FALSE(parse_score_range("1", "1")->empty());
}

TEST_CASE("lex ranges order - below and + above every member") {
  auto r = parse_lex_range("-", "+");
  REQUIRE(r);
  CHECK(r->contains(""));
  CHECK(r->contains("\xff"));
  CHECK_FALSE(r->empty());
  r = parse_lex_range("[a", "(c");
  REQUIRE(r);
  CHECK(r->contains("a"));
  CHECK(r->contains("bzz"));
  CHECK_FALSE(r->contains("c"));
  CHECK_FALSE(r->contains(""));
  CHECK(parse_lex_range("-", "-")->empty());
  CHECK(parse_lex_range("+", "+")->empty());
  CHECK(parse_lex_range("+", "-")->empty());
  CHECK(parse_lex_range("[b", "[a")->empty());
  CHECK(parse_lex_range("(a", "[a")->empty());
  CHECK_FALSE(parse_lex_range("[a", "[a")->empty());
  CHECK(parse_lex_range("[", "[")->contains(""));
  CHECK_FALSE(parse_lex_range("a", "+"));
  CHECK_FALSE(parse_lex_range("", "+"));
  CHECK_FALSE(parse_lex_range("+x", "+"));
  CHECK(parse_lex_range(std::string_view("+\0x", 3), "+"));
}

TEST_CASE("ZRANGE's options: conflicts, presets and the swapped bounds of REV") {
  auto parse = [](std::vector<std::string_view> args, ZRangeRequest request, bool store = false,
                  bool preset = false) {
    std::string_view e = parse_zrange(args, 1, store, preset, &request);
    return std::make_pair(std::string(e), request);
  };
  auto [e1, r1] = parse({"zrange", "k", "(1", "5", "byscore", "rev", "limit", "1", "2", "withscores"}, {});
  CHECK(e1.empty());
  CHECK(r1.by == ZRangeRequest::By::kScore);
  CHECK(r1.reverse);
  CHECK(r1.score.min == 5);  // REV names max first
  CHECK(r1.score.max == 1);
  CHECK(r1.score.max_exclusive);
  CHECK(r1.offset == 1);
  CHECK(r1.count == 2);
  CHECK(parse({"zrange", "k", "0", "1", "limit", "0", "1"}, {}).first == kErrLimitNeedsBy);
  CHECK(parse({"zrange", "k", "0", "1", "limit", "0", "-1"}, {}).first.empty());
  CHECK(parse({"zrange", "k", "a", "b", "bylex", "withscores"}, {}).first == kErrWithscoresBylex);
  CHECK(parse({"zrange", "k", "0", "1", "byscore", "bylex"}, {}).first == "ERR syntax error");
  CHECK(parse({"zrange", "k", "0", "1", "withscores"}, {}, true).first == "ERR syntax error");
  ZRangeRequest by_score;
  by_score.by = ZRangeRequest::By::kScore;
  CHECK(parse({"zrangebyscore", "k", "0", "1", "rev"}, by_score, false, true).first == "ERR syntax error");
  CHECK(parse({"zrangebyscore", "k", "x", "1"}, by_score, false, true).first == kErrMinMaxNotFloat);
  CHECK(parse({"zrange", "k", "x", "1"}, {}).first == "ERR value is not an integer or out of range");
  CHECK(parse({"zrange", "k", "a", "b", "bylex"}, {}).first == kErrMinMaxNotLex);
  CHECK(parse({"zrange", "k", "0", "1", "limit", "x", "1", "byscore"}, {}).first ==
        "ERR value is not an integer or out of range");
}
