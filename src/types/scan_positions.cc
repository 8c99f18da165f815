// See scan_positions.h.
#include "src/types/scan_positions.h"

namespace cascade::types {

std::uint32_t ScanPositions::remember(std::uint32_t db, std::string_view key) {
  Entry& entry = entries_[next_];
  entry.db = db;
  entry.used = true;
  entry.key.assign(key);
  const std::uint32_t token = next_ + 1;
  next_ = (next_ + 1) % kSlots;
  return token;
}

std::optional<std::string_view> ScanPositions::recall(std::uint32_t token, std::uint32_t db,
                                                      std::string_view head) const {
  if (token == 0 || token > kSlots) return std::nullopt;
  const Entry& entry = entries_[token - 1];
  if (!entry.used || entry.db != db || !entry.key.starts_with(head)) return std::nullopt;
  return std::string_view(entry.key);
}

}  // namespace cascade::types
