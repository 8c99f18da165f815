// Estimates over a Version that the write throttle and the statistics use.
//
// pending_compaction_bytes: roughly how many bytes compaction must still rewrite to bring
// every level within its target. L0 counts whole once it reached its trigger (it all goes
// into L1). Walking down from L1, a level's size plus what the level above will push into
// it, minus its target, is its excess; compacting the excess rewrites it together with the
// overlapping part of the next level, estimated from the two levels' size ratio, so the
// excess counts (1 + next level bytes / this level bytes) times, and flows on into the
// next level. An estimate for throttling, not an exact figure.
//
// estimate_live_bytes: the bytes of tables that hold the newest data of some key range,
// walking from the last level up and counting a table only if its user-key range overlaps
// none counted before (older levels hold the bulk of the data; a newer table over the same
// range is mostly overwrites). table bytes / live bytes is the space amplification.
#pragma once

#include <cstdint>

#include "engine/compaction/compaction_options.h"
#include "engine/version/version.h"

namespace cascade::engine {

std::uint64_t pending_compaction_bytes(const Version& version, const LevelOptionsArray& levels,
                                       std::size_t l0_compaction_trigger);

std::uint64_t estimate_live_bytes(const Version& version);

}  // namespace cascade::engine
