// Key and value generation for cascade-bench (key_value_gen.h).
#include "tools/bench/key_value_gen.h"

#include <algorithm>
#include <cmath>

namespace cascade::bench {

namespace {
constexpr std::size_t kPoolBytes = 1 << 20;
}  // namespace

void make_key(std::uint64_t index, std::string& out) {
  out.assign(kKeySize, '0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(index >> (56 - 8 * i));
}

ValueGenerator::ValueGenerator(std::size_t value_size, double compression_ratio,
                               std::uint64_t seed)
    : value_size_(value_size) {
  Random rnd(seed);
  const std::size_t piece = std::max<std::size_t>(value_size, 1);
  const std::size_t random_bytes = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::lround(piece * compression_ratio)), 1, piece);
  pool_.reserve(kPoolBytes + value_size);
  std::string random_part(random_bytes, ' ');
  while (pool_.size() < kPoolBytes + value_size) {
    for (char& c : random_part) c = static_cast<char>(' ' + rnd.uniform(95));
    for (std::size_t filled = 0; filled < piece; filled += random_bytes) {
      pool_.append(random_part, 0, std::min(random_bytes, piece - filled));
    }
  }
}

std::string_view ValueGenerator::next() {
  if (position_ + value_size_ > pool_.size()) position_ = 0;
  std::string_view value(pool_.data() + position_, value_size_);
  position_ += value_size_;
  return value;
}

}  // namespace cascade::bench
