// See scan_cursor.h for the bit layout.
#include "src/commands/scan_cursor.h"

#include <algorithm>

namespace cascade::commands {

namespace {
constexpr int kHeadLenShift = 32;
constexpr int kTokenShift = 35;
constexpr int kShardShift = 51;
constexpr std::size_t kHeadBytes = 4;
}  // namespace

ScanCursor ScanCursor::at(std::uint32_t shard, std::uint32_t token, std::string_view key) {
  return {shard, token, std::string(key.substr(0, std::min(key.size(), kHeadBytes)))};
}

std::uint64_t ScanCursor::encode() const {
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < kHeadBytes; ++i) {
    bytes <<= 8;
    if (i < head.size()) bytes |= static_cast<std::uint8_t>(head[i]);
  }
  return bytes | (std::uint64_t{head.size()} << kHeadLenShift) |
         (std::uint64_t{token & 0xFFFF} << kTokenShift) |
         (std::uint64_t{shard & 0x7FF} << kShardShift);
}

ScanCursor ScanCursor::decode(std::uint64_t value) {
  ScanCursor cursor;
  cursor.shard = static_cast<std::uint32_t>(value >> kShardShift);
  cursor.token = static_cast<std::uint32_t>((value >> kTokenShift) & 0xFFFF);
  const std::size_t length = std::min<std::size_t>((value >> kHeadLenShift) & 7, kHeadBytes);
  for (std::size_t i = 0; i < length; ++i) {
    cursor.head.push_back(static_cast<char>(value >> (8 * (kHeadBytes - 1 - i))));
  }
  return cursor;
}

std::optional<std::uint64_t> parse_cursor(std::string_view text) {
  if (text.empty()) return 0;  // strtoul of "" is 0 with nothing left over
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return negative ? 0 - value : value;
}

}  // namespace cascade::commands
