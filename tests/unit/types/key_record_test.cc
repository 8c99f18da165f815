// The metadata record's bytes are a disk format (src/types/FORMAT.md): these tests pin them.
#include "src/types/key_record.h"

#include <doctest/doctest.h>

#include <string>

using namespace cascade::types;

TEST_CASE("a metadata key is the big-endian db, the metadata space, then the key") {
  CHECK(metadata_key(0, "foo") == std::string("\0\0\0\0\x01" "foo", 8));
  CHECK(metadata_key(0x01020304, "") == std::string("\x01\x02\x03\x04\x01", 5));
  const std::string binary("k\0\xff", 3);
  CHECK(metadata_key(15, binary) == std::string("\0\0\0\x0f\x01", 5) + binary);
}

TEST_CASE("every key of a database sorts inside that database's range") {
  CHECK(metadata_key(1, std::string(100, '\xff')) < metadata_key(2, ""));
  CHECK(metadata_key(255, "z") < metadata_key(256, "a"));
  CHECK(metadata_key(3, "a") < metadata_key(3, "b"));
}

TEST_CASE("a string record without expiry is type, flags, value") {
  CHECK(string_record(std::nullopt, "abc") == std::string("\x01\x00" "abc", 5));
  CHECK(string_record(std::nullopt, "") == std::string("\x01\x00", 2));
}

TEST_CASE("an expiry is a little-endian fixed64 after the flags") {
  const std::string bytes = string_record(0x0102030405060708, "v");
  CHECK(bytes == std::string("\x01\x01\x08\x07\x06\x05\x04\x03\x02\x01v", 11));
}

TEST_CASE("records decode back to what was encoded") {
  const std::string binary("\0\r\n\xff", 4);
  for (auto expire : {std::optional<std::int64_t>(), std::optional<std::int64_t>(1),
                      std::optional<std::int64_t>(1700000000123), std::optional<std::int64_t>(-5)}) {
    for (std::string value : {std::string(), std::string("x"), binary, std::string(1000, 'q')}) {
      const std::string bytes = string_record(expire, value);
      auto view = decode_record(bytes);
      REQUIRE(view.has_value());
      CHECK(view->type == KeyType::kString);
      CHECK(view->expire_ms == expire);
      CHECK(view->payload == value);
    }
  }
}

TEST_CASE("a string modified in place carries flags bit 1, with or without an expiry") {
  CHECK(string_record(std::nullopt, "ab", true) == std::string("\x01\x02" "ab", 4));
  const std::string with_expiry = string_record(7, "ab", true);
  CHECK(with_expiry.substr(0, 2) == std::string("\x01\x03", 2));
  auto view = decode_record(with_expiry);
  REQUIRE(view.has_value());
  CHECK(view->raw_string);
  CHECK(view->expire_ms == 7);
  CHECK(view->payload == "ab");
  auto plain = decode_record(string_record(7, "ab"));
  REQUIRE(plain.has_value());
  CHECK_FALSE(plain->raw_string);
}

TEST_CASE("expiry is reached at the expiry millisecond") {
  auto view = decode_record(string_record(1000, "v"));
  REQUIRE(view.has_value());
  CHECK_FALSE(view->expired_at(999));
  CHECK(view->expired_at(1000));
  auto forever = decode_record(string_record(std::nullopt, "v"));
  REQUIRE(forever.has_value());
  CHECK_FALSE(forever->expired_at(INT64_MAX));
}

TEST_CASE("damaged or newer records are corruption") {
  CHECK(decode_record("").error().is_corruption());
  CHECK(decode_record(std::string("\x01", 1)).error().is_corruption());
  CHECK(decode_record(std::string("\x00\x00", 2)).error().is_corruption());  // no type 0
  CHECK(decode_record(std::string("\x09\x00", 2)).error().is_corruption());  // unknown type
  CHECK(decode_record(std::string("\x01\x04", 2)).error().is_corruption());  // unknown flag
  // Bit 1 names a string modified in place: on a collection it is corruption.
  CHECK(decode_record(std::string("\x02\x02", 2)).error().is_corruption());
  CHECK(decode_record(std::string("\x01\x01\x00\x00", 4)).error().is_corruption());  // short expiry
}

TEST_CASE("type names are TYPE's") {
  CHECK(key_type_name(KeyType::kString) == "string");
  CHECK(key_type_name(KeyType::kZSet) == "zset");
}
