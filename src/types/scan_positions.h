// ScanPositions: where each SCAN left off in one shard, so a cursor (a 64-bit number, as
// clients expect) can name an exact resume key of any length. A cursor carries a token
// into this table and the first bytes of the resume key (src/commands/scan_cursor.h).
//
// The table is a ring of kSlots entries, reused oldest first, so it needs no expiry and
// its memory is bounded. A token whose entry was reused (or lost in a restart) no longer
// matches the cursor's key bytes; the scan then resumes from those first bytes, which sort
// at or before the exact key: keys may come twice, but none present for the whole scan is
// missed, as SCAN promises.
//
// One shard's fibers; nothing here suspends.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::types {

class ScanPositions {
 public:
  // Tokens 1..kSlots (0 means none); the cursor has room for 65535. 4096 entries keep the
  // table small (a few hundred KiB per shard with short keys) while that many SCANs in
  // flight at once on one shard still resume exactly.
  static constexpr std::uint32_t kSlots = 4096;

  // Remembers `key` (database `db`) as a resume point; returns its token.
  std::uint32_t remember(std::uint32_t db, std::string_view key);
  // The key remembered under `token` for `db` if it still starts with `head`.
  std::optional<std::string_view> recall(std::uint32_t token, std::uint32_t db,
                                         std::string_view head) const;

 private:
  struct Entry {
    std::uint32_t db = 0;
    bool used = false;
    std::string key;
  };
  std::array<Entry, kSlots> entries_;
  std::uint32_t next_ = 0;
};

}  // namespace cascade::types
