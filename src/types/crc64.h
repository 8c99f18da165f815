// CRC-64 as Redis computes it for DUMP payloads and RDB files: the "Jones" polynomial
// 0xad93d23594c935a9, reflected input and output, initial value 0, no final xor
// (check value: crc64 of "123456789" is 0xe9c6d914c4b8d9ca). Pure; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace cascade::types {

std::uint64_t crc64_jones(std::uint64_t crc, std::string_view data);

}  // namespace cascade::types
