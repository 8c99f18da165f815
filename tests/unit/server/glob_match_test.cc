#include "src/server/glob_match.h"

#include <doctest/doctest.h>

#include <string>

using cascade::server::glob_match;

TEST_CASE("glob stars, question marks and literals") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("user:*", "user:42"));
  CHECK_FALSE(glob_match("user:*", "usr:42"));
  CHECK(glob_match("h?llo", "hello"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("*a*b*c", "xxaxxbxxc"));
  CHECK_FALSE(glob_match("*a*b*c", "xxaxxcxxb"));
  CHECK(glob_match("a**", "a"));
  CHECK_FALSE(glob_match("", "a"));
  CHECK(glob_match("", ""));
}

TEST_CASE("glob classes, ranges, negation and escapes") {
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK(glob_match("h[b-a]llo", "hallo"));  // reversed range, as Redis accepts
  CHECK(glob_match("\\*", "*"));
  CHECK_FALSE(glob_match("\\*", "a"));
  CHECK(glob_match("[\\]]", "]"));
}

TEST_CASE("glob can fold case and handles binary subjects") {
  CHECK(glob_match("MAXCLIENTS", "maxclients", true));
  CHECK_FALSE(glob_match("MAXCLIENTS", "maxclients", false));
  CHECK(glob_match("a?c", std::string("a\0c", 3)));
}

TEST_CASE("a pathological pattern finishes quickly") {
  std::string subject(5000, 'a');
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", subject));
}
