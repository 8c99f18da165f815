// DUMP payloads in Redis's own serialization, so values move between redis-server and
// cascade with DUMP and RESTORE, for every type. A payload is:
//
//   type      1 byte   the RDB object type (below)
//   value              the object in that type's RDB encoding
//   version   2 bytes  the RDB version, little-endian: 10 for Redis 7.0
//   crc       8 bytes  CRC-64/Jones (crc64.h) of everything before it, little-endian
//
// An RDB string starts with a length byte whose top two bits say:
//   00  the length is the low 6 bits              01  14 bits: low 6 and the next byte
//   10  0x80: a 32-bit, 0x81: a 64-bit big-endian length follows
//   11  a special encoding in the low 6 bits: 0, 1, 2 = an integer of 8, 16 or 32 bits
//       (little-endian, signed) written as its decimal text; 3 = LZF (lzf.h): compressed
//       length, then original length, then the compressed bytes
// followed, for a plain length, by that many bytes.
//
// Object types. cascade writes the plain ones, which every Redis since 2.x reads:
//    0 string     the string
//    1 list       length, then each element as a string, head first
//    2 set        length, then each member
//    4 hash       length (pairs), then field and value, pair after pair
//    5 zset       (ZSET_2) length, then member string and score as an 8-byte IEEE-754
//                 double, little-endian
// and reads, besides, what Redis 7.0 and earlier write for small or old values:
//    3 zset with scores as strings (a length byte, then the text; 253 nan, 254 inf, 255 -inf)
//   10 list as a ziplist   11 set as an intset   12 zset as a ziplist (member, score, ...)
//   13 hash as a ziplist (field, value, ...)   14 list as a quicklist (length, ziplists)
//   16 hash as a listpack  17 zset as a listpack   18 list as a quicklist of listpacks
//      (length, then per node a container kind, 1 plain element or 2 listpack, and the node)
// (rdb_containers.h reads the containers). Like Redis, a restore refuses an empty
// collection, a set or hash with a member twice, and a NaN score, as a bad format.
//
// Encoding follows Redis's choice for an uncompressed dump: a value that is the canonical
// decimal text of an integer fitting 32 bits is stored as an integer, anything else as
// plain bytes (cascade never compresses, which every reader accepts). Decoding accepts
// every string encoding and any version up to kDumpVersion. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <utility>
#include <vector>

#include "src/runtime/result.h"
#include "src/types/key_record.h"

namespace cascade::types {

inline constexpr std::uint16_t kDumpVersion = 10;
inline constexpr std::uint8_t kRdbTypeString = 0;
inline constexpr std::uint8_t kRdbTypeList = 1;
inline constexpr std::uint8_t kRdbTypeSet = 2;
inline constexpr std::uint8_t kRdbTypeHash = 4;
inline constexpr std::uint8_t kRdbTypeZSet2 = 5;

std::string dump_string(std::string_view value);

// Builds a collection's payload member by member (DUMP streams a collection from the
// engine): the constructor writes the type and the count, then add() each string in the
// order of the type's layout above (a hash: field, value, field, value...; a zset: member
// then add_score()), then finish() appends the footer.
class DumpWriter {
 public:
  DumpWriter(KeyType type, std::uint64_t count);
  void add(std::string_view text);
  void add_score(double score);
  std::string finish();

 private:
  std::string out_;
};

enum class DumpCheck : std::uint8_t { kOk, kBadVersionOrChecksum, kBadFormat, kUnsupportedType };

// A decoded payload of any type.
struct DumpedObject {
  DumpCheck check = DumpCheck::kOk;
  KeyType type = KeyType::kString;
  std::string value;                                        // a string
  std::vector<std::string> items;                           // a list (head first) or a set
  std::vector<std::pair<std::string, std::string>> pairs;  // a hash
  std::vector<std::pair<std::string, double>> scored;      // a zset
};

// Verifies the footer, then decodes the object (see the type list above).
DumpedObject restore_object(std::string_view payload);

}  // namespace cascade::types
