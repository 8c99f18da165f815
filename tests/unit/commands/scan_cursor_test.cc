#include "src/commands/scan_cursor.h"

#include <doctest/doctest.h>

using namespace cascade::commands;

TEST_CASE("a cursor keeps its shard, token and the first four bytes of the key") {
  const ScanCursor c = ScanCursor::at(1023, 65535, std::string("\xff\x00zzlong", 8));
  const ScanCursor back = ScanCursor::decode(c.encode());
  CHECK(back.shard == 1023);
  CHECK(back.token == 65535);
  CHECK(back.head == std::string("\xff\x00zz", 4));
}

TEST_CASE("a short key head keeps its length, so it stays a lower bound of the key") {
  CHECK(ScanCursor::decode(ScanCursor::at(2, 5, "ab").encode()).head == "ab");
  CHECK(ScanCursor::decode(ScanCursor::at(2, 5, "").encode()).head.empty());
}

TEST_CASE("only the start of shard 0 is cursor 0") {
  CHECK(ScanCursor{}.encode() == 0);
  CHECK(ScanCursor{1, 0, {}}.encode() != 0);
  CHECK(ScanCursor::at(0, 1, "").encode() != 0);
}

TEST_CASE("cursors parse as Redis's strtoul does") {
  CHECK(parse_cursor("0") == 0u);
  CHECK(parse_cursor("") == 0u);
  CHECK(parse_cursor("+12") == 12u);
  CHECK(parse_cursor("-1") == UINT64_MAX);
  CHECK(parse_cursor("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_cursor("18446744073709551616"));
  CHECK_FALSE(parse_cursor(" 1"));
  CHECK_FALSE(parse_cursor("1x"));
  CHECK_FALSE(parse_cursor("-"));
}
