#include "engine/format/internal_key.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "engine/format/checksum.h"

using namespace cascade::engine;

namespace {
std::string ikey(std::string_view user, SequenceNumber seq, ValueType t = ValueType::kValue) {
  std::string s;
  append_internal_key(s, user, seq, t);
  return s;
}
}  // namespace

TEST_CASE("internal keys sort by user key, then newest sequence first") {
  std::vector<std::string> keys = {ikey("b", 1), ikey("a", 1), ikey("a", 9), ikey("ab", 5),
                                   ikey("a", 5, ValueType::kDeletion), ikey("", 3)};
  std::sort(keys.begin(), keys.end(), InternalKeyLess{});
  std::vector<std::string> expect = {ikey("", 3), ikey("a", 9), ikey("a", 5, ValueType::kDeletion),
                                     ikey("a", 1), ikey("ab", 5), ikey("b", 1)};
  CHECK(keys == expect);
}

TEST_CASE("a seek key lands before every entry of that key at or below its sequence") {
  std::string seek = ikey("k", 7, kValueTypeForSeek);
  CHECK(compare_internal_keys(seek, ikey("k", 7, ValueType::kValue)) < 0);
  CHECK(compare_internal_keys(seek, ikey("k", 7, ValueType::kDeletion)) < 0);
  CHECK(compare_internal_keys(seek, ikey("k", 8)) > 0);
  CHECK(compare_internal_keys(seek, ikey("k", 6)) < 0);
}

TEST_CASE("parsing rejects short keys and unknown types") {
  ParsedInternalKey p;
  const std::string key = ikey("user", 42, ValueType::kValuePointer);  // p views it
  REQUIRE(parse_internal_key(key, p));
  CHECK(p.user_key == "user");
  CHECK(p.sequence == 42);
  CHECK(p.type == ValueType::kValuePointer);
  CHECK_FALSE(parse_internal_key("short", p));
  std::string bad = "k";
  put_fixed64(bad, (std::uint64_t{1} << 8) | 0x7f);
  CHECK_FALSE(parse_internal_key(bad, p));
}

TEST_CASE("a checksum depends on the bytes and on where they belong") {
  std::string_view data = "some block bytes";
  std::uint32_t c = checksum(data, 7, 4096);
  CHECK(c == checksum(data, 7, 4096));
  CHECK(c != checksum(data, 8, 4096));
  CHECK(c != checksum(data, 7, 8192));
  CHECK(c != checksum("some block bytez", 7, 4096));
}
