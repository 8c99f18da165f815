#include "engine/version/version_edit.h"

#include <doctest/doctest.h>

#include "engine/format/coding.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade::engine;
using cascade::engine::testing::table;

namespace {

VersionEdit edit_with_every_field() {
  VersionEdit e;
  e.set_next_file_number(1234567);
  e.set_last_sequence(kMaxSequenceNumber);
  e.set_flushed_sequence(99);
  e.shard = ShardIdentity{3, 8};
  e.wal_layout = WalLayout{4, 64u << 20};
  e.add_wal_segment(11);
  e.add_wal_segment(12);
  e.remove_wal_segment(5);
  e.add_table(0, table(20, "a", "m", 5, 9, 4096));
  e.add_table(6, table(21, std::string("\0\xff", 2), "zz", 1, 2, 1u << 30));
  e.remove_table(3, 7);
  e.add_vlog(VlogFile{30, 64u << 20, 100});
  e.add_vlog_garbage(31, 777);
  e.remove_vlog(8);
  return e;
}

}  // namespace

TEST_CASE("a version edit with every field survives encode and decode") {
  VersionEdit e = edit_with_every_field();
  std::string encoded;
  e.encode_to(encoded);
  VersionEdit back;
  REQUIRE(back.decode_from(encoded));
  CHECK(back == e);
  CHECK(back.debug_string() == e.debug_string());
}

TEST_CASE("an empty version edit encodes to nothing and decodes back") {
  VersionEdit e;
  std::string encoded;
  e.encode_to(encoded);
  CHECK(encoded.empty());
  VersionEdit back = edit_with_every_field();
  REQUIRE(back.decode_from(encoded));
  CHECK(back == VersionEdit());
}

TEST_CASE("a version edit cut inside a field is corruption, never a crash") {
  std::string encoded;
  edit_with_every_field().encode_to(encoded);
  int decoded_prefixes = 0;
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    VersionEdit back;
    cascade::Status s = back.decode_from(std::string_view(encoded).substr(0, n));
    if (s) {
      ++decoded_prefixes;  // cut exactly between two fields
      CHECK(!(back == edit_with_every_field()));
    } else {
      CHECK(s.is_corruption());
    }
  }
  // 14 fields: only the 14 cuts at field boundaries (0 included) decode.
  CHECK(decoded_prefixes == 14);
}

TEST_CASE("an unknown version edit tag is corruption unless marked safe to ignore") {
  std::string encoded;
  VersionEdit e;
  e.set_last_sequence(5);
  e.encode_to(encoded);

  std::string unknown = encoded;
  put_varint32(unknown, 99);
  put_varint32(unknown, 2);
  unknown += "xy";
  VersionEdit back;
  cascade::Status s = back.decode_from(unknown);
  CHECK(s.is_corruption());
  CHECK(s.message().find("99") != std::string::npos);

  std::string ignorable = encoded;
  put_varint32(ignorable, 99 | VersionEdit::kTagSafeToIgnore);
  put_varint32(ignorable, 2);
  ignorable += "xy";
  REQUIRE(back.decode_from(ignorable));
  CHECK(back == e);
}

TEST_CASE("a version edit field with bytes left over or a level out of range is corruption") {
  std::string extra;
  put_varint32(extra, VersionEdit::kLastSequence);
  put_varint32(extra, 2);
  extra += "\x05\x00";
  VersionEdit back;
  CHECK(back.decode_from(extra).is_corruption());

  std::string level;
  put_varint32(level, VersionEdit::kTableRemoved);
  put_varint32(level, 2);
  level += static_cast<char>(kNumLevels);
  level += '\x01';
  CHECK(back.decode_from(level).is_corruption());

  std::string garbage_over_size;
  std::string body;
  put_varint64(body, 1);
  put_varint64(body, 10);
  put_varint64(body, 11);
  put_varint32(garbage_over_size, VersionEdit::kVlogAdded);
  put_length_prefixed(garbage_over_size, body);
  CHECK(back.decode_from(garbage_over_size).is_corruption());
}

TEST_CASE("the FORMAT.md example edit encodes byte for byte") {
  VersionEdit e;
  e.set_next_file_number(6);
  e.set_last_sequence(9);
  e.add_table(0, table(5, "a", "b", 7, 9, 1000));
  std::string encoded;
  e.encode_to(encoded);
  const unsigned char expected[] = {
      0x01, 0x01, 0x06, 0x02, 0x01, 0x09, 0x0a, 0x1a, 0x00, 0x05, 0xe8, 0x07, 0x07, 0x09,
      0x09, 0x61, 0x01, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x09, 0x62, 0x01, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  CHECK(encoded == std::string(reinterpret_cast<const char*>(expected), sizeof expected));
}
