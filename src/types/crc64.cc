// See crc64.h. One table of 256 entries, built once at compile time; a byte per step.
#include "src/types/crc64.h"

#include <array>

namespace cascade::types {
namespace {

constexpr std::uint64_t reflect(std::uint64_t v) {
  std::uint64_t out = 0;
  for (int i = 0; i < 64; ++i) out |= ((v >> i) & 1) << (63 - i);
  return out;
}

constexpr std::uint64_t kReflectedPoly = reflect(0xad93d23594c935a9ull);

constexpr std::array<std::uint64_t, 256> make_table() {
  std::array<std::uint64_t, 256> table{};
  for (std::uint64_t i = 0; i < 256; ++i) {
    std::uint64_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kReflectedPoly : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint64_t, 256> kTable = make_table();

}  // namespace

std::uint64_t crc64_jones(std::uint64_t crc, std::string_view data) {
  for (char c : data) crc = kTable[(crc ^ static_cast<std::uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace cascade::types
