// DUMP payloads must be byte-compatible with Redis 7.0's: the expected bytes below are what
// redis-server 7.0 answered to DUMP for the same values.
#include "src/types/dump_payload.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

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
  CHECK(restore_object(from_hex("000568656c6c6f0a006372df766534200a")).value == "hello");
  CHECK(restore_object(from_hex("00c17fff0a001760822854808480")).value == "-129");
  CHECK(restore_object(from_hex("00c2701101000a0001a408fe953095a5")).value == "70000");
  DumpedObject lzf = restore_object(from_hex("00c30a405002616261e042010161620a00949d5f0eb1dea445"));
  CHECK(lzf.check == DumpCheck::kOk);
  std::string expected;
  for (int i = 0; i < 40; ++i) expected += "ab";
  CHECK(lzf.value == expected);
}

TEST_CASE("long values round-trip through the wider length encodings") {
  for (std::size_t size : {63u, 64u, 16383u, 16384u, 70000u}) {
    const std::string value(size, 'v');
    DumpedObject back = restore_object(dump_string(value));
    CHECK(back.check == DumpCheck::kOk);
    CHECK(back.value == value);
  }
}

TEST_CASE("a damaged payload, a newer version or another type is refused") {
  std::string payload = dump_string("hello");
  std::string flipped = payload;
  flipped[2] ^= 1;
  CHECK(restore_object(flipped).check == DumpCheck::kBadVersionOrChecksum);
  CHECK(restore_object("short").check == DumpCheck::kBadVersionOrChecksum);
  CHECK(restore_object(with_footer(std::string("\x0f\x00", 2), 10)).check ==
        DumpCheck::kUnsupportedType);
  CHECK(restore_object(with_footer(std::string("\x00\x01x", 3), 11)).check ==
        DumpCheck::kBadVersionOrChecksum);
  CHECK(restore_object(with_footer(std::string("\x00\x05x", 3), 10)).check ==
        DumpCheck::kBadFormat);
}

TEST_CASE("lzf refuses references before the start and wrong sizes") {
  CHECK(lzf_decompress(std::string("\x01" "ab", 3), 2) == std::string("ab"));
  CHECK_FALSE(lzf_decompress(std::string("\x01" "ab", 3), 3));
  CHECK_FALSE(lzf_decompress(std::string("\x20\x05", 2), 3));  // nothing to refer back to
  CHECK_FALSE(lzf_decompress(std::string("\x05" "ab", 3), 6));  // literal runs past the input
}

// ---- collections --------------------------------------------------------------------------
// The hex payloads below are redis-server 7.0's DUMP replies for the commands named.

TEST_CASE("Redis 7.0's compact encodings restore: quicklist, listpack, intset, LZF inside") {
  // RPUSH ll 0 1 2: a quicklist of one listpack node.
  DumpedObject list = restore_object(from_hex(
      "1201020d0d0000000300000101010201ff0a0066a372cd97ab5223"));
  REQUIRE(list.check == DumpCheck::kOk);
  CHECK(list.type == KeyType::kList);
  CHECK(list.items == std::vector<std::string>{"0", "1", "2"});

  // HSET hh a 1 b xyz: a listpack of field, value pairs.
  DumpedObject hash = restore_object(from_hex(
      "101414000000040081610201018162028378797a04ff0a002e2c226e653d1fc4"));
  REQUIRE(hash.check == DumpCheck::kOk);
  CHECK(hash.type == KeyType::kHash);
  CHECK(hash.pairs == std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "xyz"}});

  // SADD ss 1 2 300: an intset of 16-bit members.
  DumpedObject intset = restore_object(from_hex(
      "0b0e0200000003000000010002002c010a00e510b28e7b9529aa"));
  REQUIRE(intset.check == DumpCheck::kOk);
  CHECK(intset.type == KeyType::kSet);
  CHECK(intset.items == std::vector<std::string>{"1", "2", "300"});

  // SADD s2 x -7: a plain set (-7 as an 8-bit integer string).
  DumpedObject set = restore_object(from_hex("02020178c0f90a006ea49ac9529fb2be"));
  REQUIRE(set.check == DumpCheck::kOk);
  CHECK(set.items == std::vector<std::string>{"x", "-7"});

  // ZADD zz 1.5 a -2 b: a listpack of member, score (as text or a 13-bit integer).
  DumpedObject zset = restore_object(from_hex(
      "1115150000000400816202dffe0281610283312e3504ff0a006c359df633d08b5d"));
  REQUIRE(zset.check == DumpCheck::kOk);
  CHECK(zset.type == KeyType::kZSet);
  CHECK(zset.scored == std::vector<std::pair<std::string, double>>{{"b", -2}, {"a", 1.5}});

  // RPUSH lint 1000000 -5 strstr...(150 bytes) 9007199254740993: an LZF-compressed
  // listpack with 24-bit, 13-bit and 64-bit integers and a long string.
  DumpedObject ints = restore_object(from_hex(
      "120102c32540b312b30000000400f240420f04dffb02e096737472e08a02030198f40120a8050000"
      "200009ff0a0054de38ecc4ef30a7"));
  REQUIRE(ints.check == DumpCheck::kOk);
  REQUIRE(ints.items.size() == 4);
  CHECK(ints.items[0] == "1000000");
  CHECK(ints.items[1] == "-5");
  CHECK(ints.items[2].size() == 150);
  CHECK(ints.items[3] == "9007199254740993");
}

TEST_CASE("a ziplist (Redis 6 and older) restores") {
  // zlbytes 16, tail 13, 2 entries: "a" (6-bit string) and the immediate 5 (0xF6).
  const std::string ziplist = from_hex("10000000" "0d000000" "0200" "000161" "03f6" "ff");
  std::string body = "\x0a";  // list as a ziplist
  body.push_back(static_cast<char>(ziplist.size()));
  body += ziplist;
  DumpedObject list = restore_object(with_footer(body, 9));
  REQUIRE(list.check == DumpCheck::kOk);
  CHECK(list.items == std::vector<std::string>{"a", "5"});
  // The same with a wrong entry count is refused.
  std::string bad = ziplist;
  bad[8] = 3;
  std::string bad_body = "\x0a";
  bad_body.push_back(static_cast<char>(bad.size()));
  bad_body += bad;
  CHECK(restore_object(with_footer(bad_body, 9)).check == DumpCheck::kBadFormat);
}

TEST_CASE("collections dump in the plain RDB types and restore the same") {
  DumpWriter hash(KeyType::kHash, 2);
  hash.add("f1");
  hash.add("v1");
  hash.add("f2");
  hash.add("12");
  DumpedObject h = restore_object(hash.finish());
  REQUIRE(h.check == DumpCheck::kOk);
  CHECK(h.type == KeyType::kHash);
  CHECK(h.pairs == std::vector<std::pair<std::string, std::string>>{{"f1", "v1"}, {"f2", "12"}});

  DumpWriter zset(KeyType::kZSet, 3);
  zset.add("lo");
  zset.add_score(-HUGE_VAL);
  zset.add("mid");
  zset.add_score(0.1);
  zset.add("hi");
  zset.add_score(HUGE_VAL);
  std::string z_payload = zset.finish();
  CHECK(z_payload[0] == kRdbTypeZSet2);
  DumpedObject z = restore_object(z_payload);
  REQUIRE(z.check == DumpCheck::kOk);
  CHECK(z.scored == std::vector<std::pair<std::string, double>>{
                        {"lo", -HUGE_VAL}, {"mid", 0.1}, {"hi", HUGE_VAL}});

  DumpWriter list(KeyType::kList, 2);
  list.add("x");
  list.add("");
  DumpedObject l = restore_object(list.finish());
  REQUIRE(l.check == DumpCheck::kOk);
  CHECK(l.type == KeyType::kList);
  CHECK(l.items == std::vector<std::string>{"x", ""});
}

TEST_CASE("empty collections, repeated members and NaN scores are a bad format") {
  CHECK(restore_object(DumpWriter(KeyType::kSet, 0).finish()).check == DumpCheck::kBadFormat);
  DumpWriter twice(KeyType::kSet, 2);
  twice.add("a");
  twice.add("a");
  CHECK(restore_object(twice.finish()).check == DumpCheck::kBadFormat);
  DumpWriter nan(KeyType::kZSet, 1);
  nan.add("m");
  nan.add_score(std::nan(""));
  CHECK(restore_object(nan.finish()).check == DumpCheck::kBadFormat);
  DumpWriter short_hash(KeyType::kHash, 2);  // promises two pairs, holds one
  short_hash.add("f");
  short_hash.add("v");
  CHECK(restore_object(short_hash.finish()).check == DumpCheck::kBadFormat);
}
