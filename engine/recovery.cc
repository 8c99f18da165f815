#include "engine/recovery.h"

#include "engine/version/file_names.h"

namespace cascade::engine {

namespace {

// Checks one batch against the replay rule and adds it to the memtable.
class Replayer {
 public:
  Replayer(SequenceNumber flushed, bool tolerant, MemTable& mem)
      : next_(flushed + 1), tolerant_(tolerant), mem_(mem), last_(flushed) {}

  Status replay(const WriteBatch& batch) {
    if (batch.count() == 0) return Status::ok();
    SequenceNumber first = batch.sequence();
    SequenceNumber last = first + batch.count() - 1;
    if (last < next_ && batches_ == 0) return Status::ok();  // flushed already
    if (first != next_ && !(tolerant_ && first > next_)) return gap(first, last);
    Status s = batch.for_each([this](const WriteBatchRecord& r) {
      mem_.add(r.sequence, r.type, r.key, r.value);
    });
    if (!s) return s;
    next_ = last + 1;
    last_ = last;
    ++batches_;
    return Status::ok();
  }

  SequenceNumber last() const { return last_; }
  std::uint64_t batches() const { return batches_; }

 private:
  Status gap(SequenceNumber first, SequenceNumber last) const {
    return Status::corruption("wal replay: batch with sequences [" + std::to_string(first) +
                              ", " + std::to_string(last) + "] where sequence " +
                              std::to_string(next_) + " was expected");
  }

  SequenceNumber next_;
  bool tolerant_;
  MemTable& mem_;
  SequenceNumber last_;
  std::uint64_t batches_ = 0;
};

}  // namespace

Result<WalReplayResult> replay_wal(WalSegments& segments, SequenceNumber flushed_sequence,
                                   bool tolerant, MemTable& mem) {
  Replayer replayer(flushed_sequence, tolerant, mem);
  WalRecoveryOptions options;
  options.tolerant = tolerant;
  auto recovery = recover_wal(segments, options, [&](const WriteBatch& b, const WalPosition&) {
    return replayer.replay(b);
  });
  if (!recovery) return recovery.error();
  WalReplayResult result;
  result.wal = std::move(*recovery);
  result.last_sequence = replayer.last();
  result.batches_replayed = replayer.batches();
  return result;
}

Result<std::uint64_t> delete_obsolete_files(runtime::FileSystem& fs, const std::string& dir,
                                            VersionSet& versions) {
  auto listing = fs.list_dir(dir);
  if (!listing) return listing.error();
  std::uint64_t deleted = 0;
  for (const std::string& name : versions.obsolete_files(*listing)) {
    if (Status s = fs.remove(path_join(dir, name)); !s && !s.is_not_found()) return s;
    ++deleted;
  }
  return deleted;
}

}  // namespace cascade::engine
