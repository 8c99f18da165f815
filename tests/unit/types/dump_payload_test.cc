// DUMP payloads must be byte-compatible with Redis 7.0's: the expected bytes below are what
// redis-server 7.0 answered to DUMP for the same values.
#include "src/types/dump_payload.h"

#include <doctest/doctest.h>

#include <string>

#include "src/types/crc64.h"
#include "src/types/lzf.h"

using namespace cascade::types;

namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// `body` with a version and the checksum appended.
std::string with_footer(std::string body, std::uint16_t version) {
  body.push_back(static_cast<char>(version & 0xff));
  body.push_back(static_cast<char>(version >> 8));
  const std::uint64_t crc = crc64_jones(0, body);
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
  return body;
}

}  // namespace

TEST_CASE("crc64 is Redis's Jones variant") {
  CHECK(crc64_jones(0, "123456789") == 0xe9c6d914c4b8d9caull);
  CHECK(crc64_jones(0, "") == 0);
}

TEST_CASE("a short string dumps as Redis dumps it") {
  CHECK(dump_string("hello") == from_hex("000568656c6c6f0a006372df766534200a"));
}

TEST_CASE("integers that fit 32 bits dump in Redis's integer encodings") {
  CHECK(dump_string("-129") == from_hex("00c17fff0a001760822854808480"));
  CHECK(dump_string("70000") == from_hex("00c2701101000a0001a408fe953095a5"));
  // Not canonical integer text: stored as bytes.
  CHECK(dump_string("007")[1] == 3);
  CHECK(dump_string("+7")[1] == 2);
}

TEST_CASE("restore reads every string encoding Redis writes") {
  CHECK(restore_string(from_hex("000568656c6c6f0a006372df766534200a")).value == "hello");
  CHECK(restore_string(from_hex("00c17fff0a001760822854808480")).value == "-129");
  CHECK(restore_string(from_hex("00c2701101000a0001a408fe953095a5")).value == "70000");
  DumpedValue lzf = restore_string(from_hex("00c30a405002616261e042010161620a00949d5f0eb1dea445"));
  CHECK(lzf.check == DumpCheck::kOk);
  std::string expected;
  for (int i = 0; i < 40; ++i) expected += "ab";
  CHECK(lzf.value == expected);
}

TEST_CASE("long values round-trip through the wider length encodings") {
  for (std::size_t size : {63u, 64u, 16383u, 16384u, 70000u}) {
    const std::string value(size, 'v');
    DumpedValue back = restore_string(dump_string(value));
    CHECK(back.check == DumpCheck::kOk);
    CHECK(back.value == value);
  }
}

TEST_CASE("a damaged payload, a newer version or another type is refused") {
  std::string payload = dump_string("hello");
  std::string flipped = payload;
  flipped[2] ^= 1;
  CHECK(restore_string(flipped).check == DumpCheck::kBadVersionOrChecksum);
  CHECK(restore_string("short").check == DumpCheck::kBadVersionOrChecksum);
  CHECK(restore_string(with_footer(std::string("\x12\x00", 2), 10)).check ==
        DumpCheck::kUnsupportedType);
  CHECK(restore_string(with_footer(std::string("\x00\x01x", 3), 11)).check ==
        DumpCheck::kBadVersionOrChecksum);
  CHECK(restore_string(with_footer(std::string("\x00\x05x", 3), 10)).check ==
        DumpCheck::kBadFormat);
}

TEST_CASE("lzf refuses references before the start and wrong sizes") {
  CHECK(lzf_decompress(std::string("\x01" "ab", 3), 2) == std::string("ab"));
  CHECK_FALSE(lzf_decompress(std::string("\x01" "ab", 3), 3));
  CHECK_FALSE(lzf_decompress(std::string("\x20\x05", 2), 3));  // nothing to refer back to
  CHECK_FALSE(lzf_decompress(std::string("\x05" "ab", 3), 6));  // literal runs past the input
}
