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
  TableFile with_pointers = table(21, std::string("\0\xff", 2), "zz", 1, 2, 1u << 30);
  with_pointers.oldest_vlog = 30;
  e.add_table(6, with_pointers);
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
  // 15 fields: only the 15 cuts at field boundaries (0 included) decode.
  CHECK(decoded_prefixes == 15);
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

TEST_CASE("the FORMAT.md example of a compaction's value-log fields encodes byte for byte") {
  TableFile t = table(41, "a", "b", 7, 9, 1000);
  VersionEdit plain;
  plain.add_table(1, t);
  std::string table_only;
  plain.encode_to(table_only);

  VersionEdit e;
  t.oldest_vlog = 17;
  e.add_table(1, t);
  e.add_vlog(VlogFile{40, 20480, 11480});
  e.add_vlog_garbage(17, 300);
  e.add_vlog_garbage(12, 9000);
  e.remove_vlog(12);
  std::string encoded;
  e.encode_to(encoded);
  const unsigned char expected[] = {
      0x8f, 0x20, 0x02, 0x29, 0x11,                    // tag 4111: table 41, oldest vlog 17
      0x0c, 0x06, 0x28, 0x80, 0xa0, 0x01, 0xd8, 0x59,  // tag 12
      0x0e, 0x03, 0x11, 0xac, 0x02,                    // tag 14, file 17
      0x0e, 0x03, 0x0c, 0xa8, 0x46,                    // tag 14, file 12
      0x0d, 0x01, 0x0c};                               // tag 13
  CHECK(encoded ==
        table_only + std::string(reinterpret_cast<const char*>(expected), sizeof expected));
  VersionEdit back;
  REQUIRE(back.decode_from(encoded));
  CHECK(back == e);
  CHECK(back.tables_added[0].file.oldest_vlog == 17);
}

TEST_CASE("a table's oldest value-log file must name a table the edit adds") {
  std::string body;
  put_varint64(body, 41);
  put_varint64(body, 17);
  std::string alone;
  put_varint32(alone, VersionEdit::kTableOldestVlog);
  put_length_prefixed(alone, body);
  VersionEdit back;
  CHECK(back.decode_from(alone).is_corruption());
  // Before its table in the record is fine: the field is matched once the record is read.
  VersionEdit with_table;
  with_table.add_table(0, table(41, "a", "b"));
  std::string table_field;
  with_table.encode_to(table_field);
  REQUIRE(back.decode_from(alone + table_field));
  CHECK(back.tables_added[0].file.oldest_vlog == 17);
  // File number 0 names no file.
  std::string zero_body;
  put_varint64(zero_body, 41);
  put_varint64(zero_body, 0);
  std::string zero;
  put_varint32(zero, VersionEdit::kTableOldestVlog);
  put_length_prefixed(zero, zero_body);
  CHECK(back.decode_from(zero + table_field).is_corruption());
}
