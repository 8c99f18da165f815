// DUMP payloads in Redis's own serialization, so values move between redis-server and
// cascade with DUMP and RESTORE. Only strings are encoded here (cascade stores no other
// type yet). A payload is:
//
//   type      1 byte   0 = string (RDB_TYPE_STRING)
//   value              a string in RDB encoding (below)
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
// Encoding follows Redis's choice for an uncompressed dump: a value that is the canonical
// decimal text of an integer fitting 32 bits is stored as an integer, anything else as
// plain bytes (cascade never compresses, which every reader accepts). Decoding accepts
// every string encoding and any version up to kDumpVersion. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/runtime/result.h"

namespace cascade::types {

inline constexpr std::uint16_t kDumpVersion = 10;
inline constexpr std::uint8_t kRdbTypeString = 0;

std::string dump_string(std::string_view value);

enum class DumpCheck : std::uint8_t { kOk, kBadVersionOrChecksum, kBadFormat, kUnsupportedType };

struct DumpedValue {
  DumpCheck check = DumpCheck::kOk;
  std::string value;
};

// Verifies the footer (version and checksum), then decodes the string.
DumpedValue restore_string(std::string_view payload);

}  // namespace cascade::types
