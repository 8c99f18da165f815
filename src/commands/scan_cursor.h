// The SCAN cursor: a decimal unsigned 64-bit number, as Redis's clients parse it, that
// names a shard and a resume position inside it. Bits, from the low end:
//
//   0..31   head      the first bytes of the resume key (up to 4), first byte highest
//   32..34  head_len  how many bytes of head are used (0..4)
//   35..50  token     an entry of the shard's types::ScanPositions holding the exact
//                     resume key (0: none)
//   51..61  shard     the shard to resume in (shards are at most 1024)
//
// Cursor 0 starts at the beginning of shard 0; SCAN returns 0 when every shard is done.
// The start of shard s > 0 is s << 51, never 0. When the token's entry is gone the scan
// resumes from head, which sorts at or before the exact key (keys may repeat, none is
// skipped). Pure encoding; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::commands {

struct ScanCursor {
  std::uint32_t shard = 0;
  std::uint32_t token = 0;
  std::string head;  // at most 4 bytes

  static ScanCursor at(std::uint32_t shard, std::uint32_t token, std::string_view key);
  std::uint64_t encode() const;
  static ScanCursor decode(std::uint64_t value);
};

// Redis's cursor parsing (strtoul's): an optional sign, then decimal digits that fit in 64
// bits, a negative number wrapping around; the empty string is 0; nullopt otherwise.
std::optional<std::uint64_t> parse_cursor(std::string_view text);

}  // namespace cascade::commands
