// DB::checkpoint (db.h, "Checkpoint"; the directory it writes: engine/checkpoint.h).
#include "engine/db.h"

namespace cascade::engine {

Result<CheckpointInfo> DB::checkpoint(const std::string& dir) {
  if (closing_) return Status::shutdown("engine is closing");
  // Counted as a writer, so close() waits for it before the engine goes away.
  writers_.add();
  struct Leave {
    runtime::WaitGroup& group;
    ~Leave() { group.done(); }
  } leave{writers_};
  // After the flush every write up to the version's flushed sequence is in its tables,
  // and no table holds a later one: the version alone is a consistent prefix.
  if (Status s = flush(); !s) return s;
  // Held until the end, so the files it names stay live in the source.
  std::shared_ptr<const Version> version = versions_->current();
  return write_checkpoint(fs_, dir_, dir, *version, versions_->new_file_number());
}

}  // namespace cascade::engine
