#include "src/commands/expiry_options.h"

#include <doctest/doctest.h>

#include <climits>
#include <string>
#include <vector>

using namespace cascade::commands;

namespace {

// Parses `options` as if they followed "SET key value" (or "GETEX key").
bool parse(std::vector<std::string_view> options, OptionsOf of, ExpiryOptions& out) {
  std::vector<std::string_view> args = {"cmd", "key"};
  if (of == OptionsOf::kSet) args.push_back("value");
  const std::size_t first = args.size();
  args.insert(args.end(), options.begin(), options.end());
  return parse_expiry_options(args, first, of, out);
}

bool set_ok(std::vector<std::string_view> options) {
  ExpiryOptions out;
  return parse(options, OptionsOf::kSet, out);
}

bool getex_ok(std::vector<std::string_view> options) {
  ExpiryOptions out;
  return parse(options, OptionsOf::kGetex, out);
}

}  // namespace

TEST_CASE("SET takes NX or XX, GET, and one kind of expiry or KEEPTTL") {
  CHECK(set_ok({}));
  CHECK(set_ok({"nx", "GET", "ex", "10"}));
  CHECK(set_ok({"XX", "KEEPTTL", "get"}));
  CHECK(set_ok({"NX", "NX"}));
  CHECK(set_ok({"EX", "1", "EX", "2"}));  // the same keyword again: the last argument wins
  CHECK_FALSE(set_ok({"NX", "XX"}));
  CHECK_FALSE(set_ok({"EX", "1", "PX", "2"}));
  CHECK_FALSE(set_ok({"EXAT", "1", "KEEPTTL"}));
  CHECK_FALSE(set_ok({"KEEPTTL", "PXAT", "1"}));
  CHECK_FALSE(set_ok({"PERSIST"}));  // GETEX only
  CHECK_FALSE(set_ok({"EX"}));       // no argument
  CHECK_FALSE(set_ok({"foo"}));
}

TEST_CASE("GETEX takes one kind of expiry or PERSIST, and none of SET's conditions") {
  CHECK(getex_ok({"PERSIST"}));
  CHECK(getex_ok({"px", "5"}));
  CHECK_FALSE(getex_ok({"NX"}));
  CHECK_FALSE(getex_ok({"GET"}));
  CHECK_FALSE(getex_ok({"KEEPTTL"}));
  CHECK_FALSE(getex_ok({"PERSIST", "EX", "1"}));
  CHECK_FALSE(getex_ok({"EX", "1", "PERSIST"}));
}

TEST_CASE("options compare as C strings, as Redis's do") {
  CHECK(set_ok({std::string_view("nx\0junk", 7)}));
  CHECK_FALSE(set_ok({std::string_view("n\0x", 3)}));
}

TEST_CASE("the parsed flags and expiry argument") {
  ExpiryOptions out;
  REQUIRE(parse({"get", "pxat", "123", "nx"}, OptionsOf::kSet, out));
  CHECK(out.has(kOptGet));
  CHECK(out.has(kOptNx));
  CHECK(out.has(kOptPxat));
  CHECK_FALSE(out.has(kOptEx));
  CHECK(out.expire_arg == "123");
}

TEST_CASE("expiry arguments become absolute milliseconds with Redis's checks") {
  std::int64_t when = 0;
  const std::int64_t now = 1'700'000'000'000;
  CHECK(absolute_expire_ms({kOptEx, "10"}, now, &when) == ExpireCheck::kOk);
  CHECK(when == now + 10'000);
  CHECK(absolute_expire_ms({kOptPx, "10"}, now, &when) == ExpireCheck::kOk);
  CHECK(when == now + 10);
  CHECK(absolute_expire_ms({kOptExat, "5"}, now, &when) == ExpireCheck::kOk);
  CHECK(when == 5000);
  CHECK(absolute_expire_ms({kOptPxat, "5"}, now, &when) == ExpireCheck::kOk);
  CHECK(when == 5);
  CHECK(absolute_expire_ms({kOptEx, "abc"}, now, &when) == ExpireCheck::kNotInteger);
  CHECK(absolute_expire_ms({kOptEx, "0"}, now, &when) == ExpireCheck::kInvalid);
  CHECK(absolute_expire_ms({kOptPx, "-1"}, now, &when) == ExpireCheck::kInvalid);
  CHECK(absolute_expire_ms({kOptEx, "9223372036854776"}, now, &when) == ExpireCheck::kInvalid);
  CHECK(absolute_expire_ms({kOptPx, "9223372036854775807"}, now, &when) == ExpireCheck::kInvalid);
  CHECK(absolute_expire_ms({kOptPxat, "9223372036854775807"}, now, &when) == ExpireCheck::kOk);
  CHECK(invalid_expire_text("setex") == "ERR invalid expire time in 'setex' command");
}

TEST_CASE("EXPIRE's conditions: unknown options first, then the combinations") {
  auto check = [](std::vector<std::string_view> options) {
    std::vector<std::string_view> args = {"expire", "key", "10"};
    args.insert(args.end(), options.begin(), options.end());
    ExpireCondition condition;
    return parse_expire_condition(args, 3, condition);
  };
  CHECK(check({}).empty());
  CHECK(check({"nx"}).empty());
  CHECK(check({"XX", "GT"}).empty());
  CHECK(check({"nx", "xx"}) == "ERR NX and XX, GT or LT options at the same time are not compatible");
  CHECK(check({"gt", "lt"}) == "ERR GT and LT options at the same time are not compatible");
  CHECK(check({"nx", "xx", "foo"}) == "ERR Unsupported option foo");
}

TEST_CASE("EXPIRE's conditions decide with no expiry as an infinite one") {
  const std::int64_t none = -1;
  CHECK(expire_condition_allows({}, none, 5));
  CHECK(expire_condition_allows({.nx = true}, none, 5));
  CHECK_FALSE(expire_condition_allows({.nx = true}, 10, 5));
  CHECK_FALSE(expire_condition_allows({.xx = true}, none, 5));
  CHECK(expire_condition_allows({.xx = true}, 10, 5));
  CHECK_FALSE(expire_condition_allows({.gt = true}, none, 5));
  CHECK(expire_condition_allows({.gt = true}, 4, 5));
  CHECK_FALSE(expire_condition_allows({.gt = true}, 5, 5));
  CHECK(expire_condition_allows({.lt = true}, none, 5));
  CHECK(expire_condition_allows({.lt = true}, 6, 5));
  CHECK_FALSE(expire_condition_allows({.lt = true}, 5, 5));
}
