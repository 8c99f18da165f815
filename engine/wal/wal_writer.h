// WalWriter: appends write batches to the WAL ring with group commit.
//
// Group commit. append() copies its record into the group being filled (the newest queued
// group, while no writer has taken it) and suspends its fiber until that group is written.
// Groups are written one at a time, oldest first, by a leader: whichever waiting appender
// finds no IO in flight takes the IO role, writes the front group with one aligned write
// (and syncs it if asked), completes it, and hands the role to a waiter of the next group.
// Every batch that arrives while a write is in flight therefore lands in the next single
// write. A group holds at most max_group_bytes (a bigger record goes alone) and lies in one
// segment; it starts on a page boundary and is padded with zeros to a whole page, so a page
// that held a completed write is never rewritten in the same lap (a torn write can only hurt
// the group being written, never acknowledged records). The cost is the padding: on average
// half a page per group, up to a page per small group (bench-engine-wal measures it).
//
// Sync policy. A group is synced (one fdatasync of its segment) when the policy is kAlways
// or any of its batches asked for sync; those batches are acknowledged only after the sync.
// kEverySec: a background fiber syncs what was written at most sync_interval ago. kNo:
// nothing syncs but segment switches and close(). A failed write or sync poisons the WAL:
// that group and every later append fail with the error, which is also logged (the data is
// in doubt and a retried fsync proves nothing).
//
// Ring. Leaving a segment writes a zero page after its last group and syncs it, then the
// next segment is taken only once every record in it is flushed: mark_flushed(S) says every
// batch with a sequence <= S is in a durable table. Until then the leader waits
// (stats().full_waits counts it): unflushed records are never overwritten.
//
// Calling rules: one shard; append, sync and close from fibers of that shard's scheduler,
// mark_flushed from anywhere on the shard. close() before destruction.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/format/internal_key.h"
#include "engine/wal/wal_format.h"
#include "engine/wal/wal_reader.h"
#include "engine/wal/wal_segment.h"
#include "engine/write_batch.h"
#include "src/runtime/condition_variable.h"
#include "src/runtime/event.h"
#include "src/runtime/fiber.h"

namespace cascade::engine {

enum class WalSyncPolicy { kAlways, kEverySec, kNo };

struct WalOptions {
  WalGeometry geometry;  // count and size of a WAL being created (wal_id is ignored)
  WalSyncPolicy sync_policy = WalSyncPolicy::kAlways;
  std::size_t max_group_bytes = 1 << 20;
  runtime::Duration sync_interval = std::chrono::seconds(1);
  // Receives the loud message when the WAL is poisoned; stderr when empty.
  std::function<void(const std::string&)> log;
};

struct WalStats {
  std::uint64_t batches = 0;
  std::uint64_t groups = 0;             // aligned writes of records
  std::uint64_t payload_bytes = 0;      // batch bytes
  std::uint64_t bytes_written = 0;      // every byte written: records, padding, zero pages
  std::uint64_t syncs = 0;              // wal_syncs
  std::uint64_t full_waits = 0;         // wal_full_waits: waits for a flushed segment
  std::uint64_t max_group_batches = 0;
};

class WalWriter {
 public:
  // Takes over the segments after recover_wal() returned `recovery`; after a torn tail it
  // first erases the torn bytes. Spawns the sync fiber for kEverySec.
  static Result<std::unique_ptr<WalWriter>> open(WalSegments segments, const WalOptions& options,
                                                 const WalRecovery& recovery);
  ~WalWriter();

  // Logs `batch` (its sequence already set) and returns where its record starts, once its
  // group is written (and synced if `sync` or the policy says so). InvalidArgument if the
  // batch cannot fit in a segment; the poisoning error after a failed write or sync.
  Result<WalPosition> append(const WriteBatch& batch, bool sync);
  // Every batch with sequences <= `sequence` is flushed: its segment may be reused.
  void mark_flushed(SequenceNumber sequence);
  // Makes everything written so far durable.
  Status sync();
  // Waits for queued appends, syncs, stops the sync fiber and closes the files.
  Status close();

  const WalStats& stats() const { return stats_; }
  Status health() const { return poisoned_; }
  const WalGeometry& geometry() const { return segments_.geometry(); }
  // Segments holding unflushed records (the current one included): the engine flushes a
  // memtable before this reaches segment_count.
  std::uint32_t segments_in_use() const;

 private:
  struct Group;

  WalWriter(WalSegments segments, const WalOptions& options, const WalRecovery& recovery);
  Status erase_torn_tail(const WalRecovery& recovery);
  Group& group_for(std::uint64_t record_size);
  void wait_for(const std::shared_ptr<Group>& group);
  void lead();
  void release_io();
  Status write_group(Group& group);
  Status enter_segment(std::uint64_t ring);
  Status sync_current();
  bool segment_free(std::uint32_t segment) const;
  void poison(const Status& error);
  void finish(Group& group, const Status& status);
  void sync_loop();

  WalSegments segments_;
  WalOptions options_;
  std::uint64_t segment_size_;
  std::vector<WalSegmentState> state_;
  std::deque<std::shared_ptr<Group>> queue_;
  std::vector<runtime::AlignedBuffer> spare_buffers_;
  std::uint64_t current_ring_;   // the segment being written
  std::uint64_t written_end_;    // end of its last written record
  std::uint64_t durable_ = 0;    // logical position: every record before it is synced
  bool dirty_ = false;           // the current segment has unsynced writes
  std::uint64_t tail_ring_;      // where the newest queued record ends
  std::uint64_t tail_end_;
  SequenceNumber flushed_ = 0;
  bool io_busy_ = false;
  bool closing_ = false;
  bool closed_ = false;
  Status poisoned_;
  runtime::ConditionVariable io_free_;
  runtime::ConditionVariable flushed_cv_;
  runtime::Event stop_;
  runtime::FiberHandle syncer_;
  WalStats stats_;
};

}  // namespace cascade::engine
