// Inline splitting: Redis 7.0's sdssplitargs rules. Cases marked "redis" were sent to
// redis-server 7.0.15 as "ECHO ..." lines and its replies recorded.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "resp/inline_splitter.h"

namespace cascade::resp {
namespace {

using Args = std::vector<std::string>;

std::optional<Args> split(std::string_view line) {
  std::string scratch;
  std::vector<std::string_view> views;
  if (!split_inline_args(line, scratch, views)) return std::nullopt;
  return Args(views.begin(), views.end());
}

}  // namespace

TEST_CASE("inline splitting separates words on any blank") {
  CHECK(split("SET a b") == Args{"SET", "a", "b"});
  CHECK(split("  SET \t a\r\fb \v ") == Args{"SET", "a", "b"});
  CHECK(split("") == Args{});
  CHECK(split(" \t\v\f\r ") == Args{});
}

TEST_CASE("inline splitting keeps \\v and \\f inside an unquoted word") {
  CHECK(split("ECHO a\vb") == Args{"ECHO", "a\vb"});  // redis: $3 a\vb
  CHECK(split("ECHO a\fb") == Args{"ECHO", "a\fb"});
}

TEST_CASE("inline splitting decodes double-quoted escapes") {
  CHECK(split(R"(ECHO "a b")") == Args{"ECHO", "a b"});
  CHECK(split(R"(ECHO "\x41\x4a\n\q")") == Args{"ECHO", "AJ\nq"});  // redis: $4 AJ\nq
  CHECK(split(R"(ECHO "\r\t\b\a\\\"")") == Args{"ECHO", "\r\t\b\a\\\""});
  CHECK(split(R"(ECHO "\xff\x00\xAb")") == Args{"ECHO", std::string("\xff\0\xab", 3)});
  CHECK(split(R"(ECHO "\xZZ")") == Args{"ECHO", "xZZ"});  // redis: $3 xZZ
  CHECK(split(R"(ECHO "\x4")") == Args{"ECHO", "x4"});
  CHECK(split(R"(ECHO "" "")") == Args{"ECHO", "", ""});
}

TEST_CASE("inline splitting treats single quotes as literal except \\'") {
  CHECK(split(R"(ECHO 'a\'b\n')") == Args{"ECHO", "a'b\\n"});  // redis: $5 a'b\n
  CHECK(split(R"(ECHO '')") == Args{"ECHO", ""});
  CHECK(split(R"(ECHO 'a "b" c')") == Args{"ECHO", "a \"b\" c"});
  CHECK(split(R"(ECHO '\x41\n')") == Args{"ECHO", "\\x41\\n"});
}

TEST_CASE("inline splitting joins a bare prefix with a quoted part") {
  CHECK(split(R"(ECHO a"b c")") == Args{"ECHO", "ab c"});  // redis: $4 ab c
  CHECK(split(R"(ECHO a'b c' d)") == Args{"ECHO", "ab c", "d"});
}

TEST_CASE("inline splitting requires a blank or the end after a closing quote") {
  CHECK_FALSE(split(R"(ECHO "a"b)"));
  CHECK_FALSE(split(R"(ECHO 'a'b)"));
  CHECK_FALSE(split(R"(ECHO "a""b")"));
  CHECK(split("ECHO \"a\"\vb") == Args{"ECHO", "a", "b"});  // redis: wrong number of args
  CHECK(split("ECHO \"a\"\t") == Args{"ECHO", "a"});
}

TEST_CASE("inline splitting rejects quotes left open") {
  CHECK_FALSE(split(R"(ECHO "a)"));
  CHECK_FALSE(split(R"(ECHO 'a)"));
  CHECK_FALSE(split(R"(ECHO "a\")"));   // redis: unbalanced quotes
  CHECK_FALSE(split(R"(ECHO 'a\')"));
  CHECK_FALSE(split(R"(ECHO 'a\\')"));  // the second backslash escapes the quote
  CHECK_FALSE(split(R"(ECHO "a\)"));
  CHECK_FALSE(split("ECHO \""));
}

TEST_CASE("inline splitting returns unquoted words as views into the line") {
  const std::string line = R"(GET key "quoted")";
  std::string scratch;
  std::vector<std::string_view> views;
  REQUIRE(split_inline_args(line, scratch, views));
  REQUIRE(views.size() == 3);
  CHECK(views[1].data() == line.data() + 4);
  CHECK(views[2].data() == scratch.data());
  CHECK(scratch.capacity() >= line.size());
}

}  // namespace cascade::resp
