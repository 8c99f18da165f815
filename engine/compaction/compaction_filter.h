// CompactionFilter: lets the engine's owner drop entries while compaction rewrites them
// (the server drops expired keys and the members of deleted collections this way).
//
// Contract:
// - filter() is asked only about value entries (kValue, kValuePointer; a pointer's value
//   is the opaque address bytes) and only about the newest version of a user key that no
//   live snapshot can see: a version some snapshot may still read is kept whatever the
//   filter would say, and tombstones are never offered.
// - kDrop removes the user key as of that version: if older versions of the key may still
//   exist in deeper levels the entry becomes a tombstone at the same sequence (a later
//   compaction into the bottom level drops it), otherwise it disappears. Either way reads
//   no longer see the key, exactly as if it had been deleted at that sequence.
// - It runs on the shard's background compaction fiber and must not suspend; it may be
//   asked about the same version again after a failed compaction is retried.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/format/internal_key.h"

namespace cascade::engine {

class CompactionFilter {
 public:
  enum class Decision : std::uint8_t { kKeep, kDrop };

  virtual ~CompactionFilter() = default;
  // `level` is the level the entry is being written to.
  virtual Decision filter(int level, std::string_view user_key, ValueType type,
                          std::string_view value) const = 0;
};

}  // namespace cascade::engine
