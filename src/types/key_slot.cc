// See key_slot.h. The CRC is table-driven, eight bytes a step ("slicing by 8"): table k
// holds the remainder of a byte followed by k zero bytes, so the eight bytes' remainders are
// looked up independently and XORed, instead of a chain of eight dependent lookups (a key
// is hashed on every command; byte at a time it was 3.7% of GET -P 16's samples).
#include "src/types/key_slot.h"

#include <array>
#include <cstring>

namespace cascade::types {
namespace {

constexpr std::uint16_t kPolynomial = 0x1021;

using Tables = std::array<std::array<std::uint16_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    std::uint16_t remainder = static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      remainder = (remainder & 0x8000) ? static_cast<std::uint16_t>((remainder << 1) ^ kPolynomial)
                                       : static_cast<std::uint16_t>(remainder << 1);
    }
    t[0][byte] = remainder;
  }
  for (std::size_t k = 1; k < t.size(); ++k) {
    for (unsigned byte = 0; byte < 256; ++byte) {  // one zero byte more than table k - 1
      const std::uint16_t before = t[k - 1][byte];
      t[k][byte] = static_cast<std::uint16_t>((before << 8) ^ t[0][before >> 8]);
    }
  }
  return t;
}

constexpr Tables kTables = make_tables();

}  // namespace

std::uint16_t crc16(std::string_view data) {
  std::uint16_t crc = 0;
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) {
    crc = static_cast<std::uint16_t>(
        kTables[7][(crc >> 8) ^ p[0]] ^ kTables[6][(crc & 0xff) ^ p[1]] ^ kTables[5][p[2]] ^
        kTables[4][p[3]] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
        kTables[0][p[7]]);
  }
  for (; n > 0; --n, ++p) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kTables[0][(crc >> 8) ^ *p]);
  }
  return crc;
}

std::string_view hashed_part(std::string_view key) {
  const std::size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const std::size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

}  // namespace cascade::types
