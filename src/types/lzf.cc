// See lzf.h for the format.
#include "src/types/lzf.h"

namespace cascade::types {

std::optional<std::string> lzf_decompress(std::string_view in, std::size_t expected_size) {
  std::string out;
  out.reserve(expected_size);
  std::size_t i = 0;
  while (i < in.size()) {
    const auto control = static_cast<std::uint8_t>(in[i++]);
    if (control < 32) {
      const std::size_t run = control + 1u;
      if (i + run > in.size() || out.size() + run > expected_size) return std::nullopt;
      out.append(in.substr(i, run));
      i += run;
      continue;
    }
    std::size_t length = control >> 5;
    if (length == 7) {
      if (i >= in.size()) return std::nullopt;
      length += static_cast<std::uint8_t>(in[i++]);
    }
    if (i >= in.size()) return std::nullopt;
    const std::size_t distance = ((control & 31u) << 8) + static_cast<std::uint8_t>(in[i++]) + 1;
    length += 2;
    if (distance > out.size() || out.size() + length > expected_size) return std::nullopt;
    for (std::size_t k = 0; k < length; ++k) out.push_back(out[out.size() - distance]);
  }
  if (out.size() != expected_size) return std::nullopt;
  return out;
}

}  // namespace cascade::types
