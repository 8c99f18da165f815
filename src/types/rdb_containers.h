// Readers for the compact containers Redis puts inside DUMP payloads (and RDB files), so
// RESTORE accepts what redis-server's DUMP writes for small collections. Every multi-byte
// field is little-endian unless said otherwise. Each reader appends the container's
// entries, in order, as strings (integers as their decimal text, the way Redis hands them
// back), and returns false on any malformed or truncated input: a payload is never trusted.
//
// listpack (Redis 7 hashes, sorted sets, list nodes):
//   total bytes u32 | entry count u16 (65535: unknown, count by walking) | entries | 0xFF
//   entry = encoding-and-data | backlen (1-5 bytes: the entry's size, for walking back)
//   encodings: 0xxxxxxx 7-bit unsigned int; 10xxxxxx string of 6-bit length;
//              110xxxxx yyyyyyyy 13-bit signed int; 1110xxxx yyyyyyyy string of 12-bit
//              length (big-endian bits); 11110000 + u32 length string; 11110001 int16;
//              11110010 int24; 11110011 int32; 11110100 int64 (signed, little-endian)
//
// ziplist (Redis before 7: hashes, sorted sets, lists, quicklist nodes):
//   total bytes u32 | tail offset u32 | entry count u16 | entries | 0xFF
//   entry = previous entry length (1 byte, or 0xFE + u32) | encoding | data
//   encodings: 00xxxxxx string, 6-bit length; 01xxxxxx yyyyyyyy string, 14-bit length
//              (big-endian); 10000000 + u32 big-endian length string; 11000000 int16;
//              11010000 int32; 11100000 int64; 11110000 int24; 11111110 int8;
//              1111xxxx (xxxx 0001-1101) the immediate value xxxx - 1
//
// intset (sets of integers): encoding u32 (2, 4 or 8 bytes per member) | count u32 |
//   members, ascending, signed, little-endian.
//
// Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cascade::types {

bool read_listpack(std::string_view bytes, std::vector<std::string>& out);
bool read_ziplist(std::string_view bytes, std::vector<std::string>& out);
bool read_intset(std::string_view bytes, std::vector<std::string>& out);

}  // namespace cascade::types
