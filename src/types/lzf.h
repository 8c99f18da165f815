// LZF decompression, for string values Redis stores compressed in DUMP payloads and RDB
// files. The format is a sequence of items, each starting with a control byte c:
//   c < 32          a literal run: the next c + 1 bytes are copied as they are
//   c >= 32         a back reference: length L = c >> 5 (if L == 7, the next byte is added
//                   to it), then distance D = ((c & 31) << 8) + next byte + 1; L + 2 bytes
//                   are copied from D bytes back in the output (they may overlap it)
// Pure; any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::types {

// The decompressed bytes, or nullopt if `in` is malformed or does not decompress to
// exactly `expected_size` bytes.
std::optional<std::string> lzf_decompress(std::string_view in, std::size_t expected_size);

}  // namespace cascade::types
