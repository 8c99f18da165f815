// Slots must be exactly Redis Cluster's: the expected values were read from CLUSTER KEYSLOT
// of a cluster-enabled redis-server 7.0.15.
#include "src/types/key_slot.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

using cascade::types::crc16;
using cascade::types::hashed_part;
using cascade::types::key_shard;
using cascade::types::key_slot;

TEST_CASE("crc16 is CRC16/XMODEM") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(crc16("") == 0);
}

// crc16 takes eight bytes a step, then the rest one at a time: every length up to 100 and
// every byte value agree with the definition, one bit at a time.
TEST_CASE("crc16 agrees with the bitwise definition at every length") {
  auto bitwise = [](std::string_view data) {
    std::uint16_t crc = 0;
    for (char c : data) {
      crc = static_cast<std::uint16_t>(crc ^ (static_cast<std::uint8_t>(c) << 8));
      for (int bit = 0; bit < 8; ++bit) {
        crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                             : static_cast<std::uint16_t>(crc << 1);
      }
    }
    return crc;
  };
  std::string data;
  std::uint32_t x = 12345;
  for (int length = 0; length <= 100; ++length) {
    CHECK_MESSAGE(crc16(data) == bitwise(data), "length " << length);
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 16));
  }
  std::string every(256, '\0');
  for (int i = 0; i < 256; ++i) every[i] = static_cast<char>(i);
  CHECK(crc16(every) == bitwise(every));
}

TEST_CASE("key slots match CLUSTER KEYSLOT") {
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("hello") == 866);
  CHECK(key_slot("") == 0);
  CHECK(key_slot("123456789") == 12739);
}

TEST_CASE("a hashtag hashes only the bytes between the first { and the next }") {
  CHECK(key_slot("{user1000}.following") == 3443);
  CHECK(key_slot("{user1000}.followers") == 3443);
  CHECK(key_slot("user1000") == 3443);
  CHECK(key_slot("foo{bar}{zap}") == 5061);
  CHECK(key_slot("foo{{bar}}zap") == 4015);
  CHECK(hashed_part("foo{{bar}}zap") == "{bar");
  CHECK(key_slot("a{b}c") == 3300);
}

TEST_CASE("an empty or unclosed hashtag hashes the whole key") {
  CHECK(key_slot("foo{}{bar}") == 8363);
  CHECK(hashed_part("foo{}{bar}") == "foo{}{bar}");
  CHECK(key_slot("{}x") == 10595);
  CHECK(key_slot("x{") == 3596);
  CHECK(hashed_part("x{") == "x{");
}

TEST_CASE("binary keys hash every byte") {
  const std::string with_nul("a\0b", 3);
  CHECK(hashed_part(with_nul) == with_nul);
  CHECK(key_slot(with_nul) != key_slot("a"));
}

TEST_CASE("the shard is the slot modulo the shard count") {
  CHECK(key_shard("foo", 1) == 0);
  CHECK(key_shard("foo", 2) == 12182 % 2);
  CHECK(key_shard("foo", 7) == 12182 % 7);
  CHECK(key_shard("{user1000}.a", 5) == key_shard("{user1000}.b", 5));
}
