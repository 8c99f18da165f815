// Level options derived from CompactionOptions (geometry: compaction_options.h).
#include "engine/compaction/compaction_options.h"

#include <cmath>

namespace cascade::engine {

LevelOptionsArray resolve_level_options(const CompactionOptions& options,
                                        const CompressionOptions& compression) {
  LevelOptionsArray out;
  double target = static_cast<double>(options.base_level_size);
  for (int level = 0; level < kNumLevels; ++level) {
    LevelOptions& l = out[level];
    l.compression = compression;
    l.target_file_size = options.target_file_size;
    if (level >= 1 && level < kNumLevels - 1) {
      l.target_size = static_cast<std::uint64_t>(std::llround(target));
      target *= options.level_size_ratio;
    }
    if (static_cast<std::size_t>(level) < options.levels.size()) {
      const LevelOverride& o = options.levels[level];
      if (o.target_size != 0 && level >= 1 && level < kNumLevels - 1) l.target_size = o.target_size;
      if (o.target_file_size != 0) l.target_file_size = o.target_file_size;
      if (o.compression) l.compression = *o.compression;
    }
    if (l.target_file_size == 0) l.target_file_size = 1;
  }
  return out;
}

}  // namespace cascade::engine
