#include "engine/format/coding.h"

#include <doctest/doctest.h>

#include <random>
#include <vector>

using namespace cascade::engine;

TEST_CASE("fixed-width integers are little-endian whatever the host") {
  std::string s;
  put_fixed32(s, 0x04030201u);
  put_fixed64(s, 0x0807060504030201ull);
  put_fixed16(s, 0x0201);
  CHECK(s == std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02", 14));
  CHECK(load_fixed32(s.data()) == 0x04030201u);
  CHECK(load_fixed64(s.data() + 4) == 0x0807060504030201ull);
  CHECK(load_fixed16(s.data() + 12) == 0x0201);
}

TEST_CASE("varints round-trip at every length boundary") {
  std::vector<std::uint64_t> values = {0, 1, 127, 128, 16383, 16384, UINT32_MAX,
                                       std::uint64_t{UINT32_MAX} + 1, UINT64_MAX};
  for (int shift = 0; shift < 64; ++shift) values.push_back(std::uint64_t{1} << shift);
  std::string s;
  for (auto v : values) put_varint64(s, v);
  std::string_view in = s;
  for (auto v : values) {
    std::uint64_t got;
    REQUIRE(get_varint64(in, got));
    CHECK(got == v);
  }
  CHECK(in.empty());
  CHECK(varint_length(127) == 1);
  CHECK(varint_length(128) == 2);
  CHECK(varint_length(UINT64_MAX) == kMaxVarint64Bytes);
}

TEST_CASE("truncated and over-long varints are rejected without reading past the input") {
  std::string s;
  put_varint64(s, 300);
  std::string_view cut(s.data(), 1);
  std::uint64_t v;
  CHECK_FALSE(get_varint64(cut, v));
  CHECK(cut.size() == 1);  // the cursor does not move on failure

  std::string eleven(11, '\xff');
  std::string_view in = eleven;
  CHECK_FALSE(get_varint64(in, v));

  std::string big;
  put_varint64(big, std::uint64_t{UINT32_MAX} + 1);
  std::string_view in32 = big;
  std::uint32_t v32;
  CHECK_FALSE(get_varint32(in32, v32));
}

TEST_CASE("length-prefixed slices reject a length longer than the input") {
  std::string s;
  put_length_prefixed(s, "hello");
  put_length_prefixed(s, "");
  std::string_view in = s, out;
  REQUIRE(get_length_prefixed(in, out));
  CHECK(out == "hello");
  REQUIRE(get_length_prefixed(in, out));
  CHECK(out.empty());
  CHECK(in.empty());

  std::string bad;
  put_varint64(bad, 10);
  bad += "abc";
  std::string_view bin = bad;
  CHECK_FALSE(get_length_prefixed(bin, out));
}
