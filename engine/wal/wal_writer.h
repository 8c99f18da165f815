// WalWriter: appends write batches to the WAL ring: a tail buffer for appends, group commit
// for those that wait to be written or synced.
//
// The tail. append() copies its record into the newest group of the tail (an in-memory run
// of records that starts on a page boundary of one segment). When append() returns depends
// on the policy:
//   - sync=true, or any append under kAlways: once the record is durable (group commit);
//   - under kEverySec: once the record is written into the kernel's page cache
//     (FileHandle::write_buffered_at, a pwrite on the shard's thread) but not synced: as
//     Redis's everysec, which write(2)s its AOF buffer before it replies, a process crash
//     loses no acknowledged append, a power loss at most the last sync interval's. No
//     device round trip per group: that is what a direct write would add, and on a virtual
//     machine it was the largest cost of a SET. Written-only waiters share writes by group
//     commit as sync ones do;
//   - under kNo: at once, from the tail. Its record is only in this process's memory; the
//     cost is a copy, and only when the tail holds more than max_buffered_bytes unwritten
//     bytes does it wait (backpressure, stats().buffer_waits) for the pages to be written.
//
// Writes. Groups are written one at a time, oldest first, by whichever fiber holds the IO
// role. Two kinds of write leave the tail:
//   - full pages: a flusher fiber, started when the tail holds a full page, cuts the newest
//     group after its last full page and writes the whole pages; the partial page's bytes
//     start the next group at that page. A record may so cross a write boundary;
//   - the whole tail, padded with zeros to a page: for a waiting appender, on the timer,
//     before leaving a segment and at close. The next group starts on the next page, but
//     after a write into the page cache for appenders waiting only for it (kEverySec): the
//     next group then starts on the partial page just written, with a copy of its bytes,
//     and rewrites it with what follows them.
// A page that received a completed write that was then synced is never written again in
// the same lap (a torn write can only hurt the unsynced tail, never synced records): every
// sync is preceded by a whole write, whose padding ends the page. The cost is the padding:
// up to a page per synced group or timer tick, none for a stream of kNo appends. Under
// kAlways every waited-for group is padded (each is synced before the next is written).
//
// Group commit. A waiting appender waits until its record is durable (sync) or written
// (kEverySec). Whichever waiting appender finds the IO role free takes it, waits for the
// end of the scheduler's round (Scheduler::yield_to_round_end) so that every fiber of the
// round appends too (the writers the last write woke among them), then writes everything
// in the tail, fdatasyncs if it waits for durability, and hands the role on: every batch
// that arrives meanwhile lands in the next single write (and sync). The fibers a write
// releases run in the same round (Scheduler::WakeInRound), so their replies leave in one
// burst with the leader's.
//
// Timer. Under kEverySec and kNo a fiber runs sync_interval after an unsynced append (and
// every interval while appends go on). Under kEverySec the appends are already written and
// it fdatasyncs them, so a power loss loses at most about that much (Redis's appendfsync
// everysec); under kNo it writes the partial tail and leaves syncing to segment switches,
// sync writers and close(). A failed write or sync poisons the WAL: every later append
// fails with the error, which is also logged (the data is in doubt and a retried fsync
// proves nothing). Unsynced appends already acknowledged are lost with it, as they would be
// in a crash.
//
// Zeroing ahead. Segments are preallocated (fallocate): until a page is first written the
// filesystem holds it as an unwritten extent, and a durable write there must also commit
// the journal entry that marks it written. On ext4 that is a second device write before
// the flush of every durable group (write, journal, flush instead of write, flush: ~50 us
// more per group on the development VM), for the whole first lap of a new WAL. So in the
// WAL's first lap (rings [segment_count, 2 * segment_count)), before a durable group write
// (write_durable) reaches a part of its segment this process has not zeroed yet, the
// writer zeroes kZeroAheadBytes from there (at least to the group's end) with a plain
// direct write: one extent conversion, and one journal commit at the next durable write,
// per 256 KiB instead of per group. Never at or below what was written before in the
// lap: a zeroed range starts at the group's start or past it. Losing nothing: in lap 1
// no page past the writer has held a record the log still needs (torn bytes a restart
// erased at most), and zeros are what recovery reads as a segment's end, or, on a
// segment's first page, as a segment never entered; a crash between the two writes leaves
// what a crash before both would. Not in later laps: a segment's first record then tells
// recovery which lap the segment belongs to (wal_reader.cc), and zeroing it just before a
// crash would hide a segment still in the log; besides, the pages lap 1 reached are
// written extents already. Writes into the page cache need none of it (the conversions
// join the once-a-second sync). What was zeroed is known only in memory: after a restart
// in lap 1, up to 256 KiB already zeroed is written again.
//
// Ring. Leaving a segment writes a zero page after its last group and syncs it, then the
// next segment is taken only once every record in it is flushed: mark_flushed(S) says every
// batch with a sequence <= S is in a durable table. Until then the writer of the IO role
// waits (stats().full_waits counts it) and appends fill the tail up to its bound:
// unflushed records are never overwritten. The tail's bound is at most a quarter of a
// segment, so the segments in use (what the engine's flush trigger reads) are never more
// than a segment behind the appends.
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

// A record in the tail: where it starts, and the logical position its end reaches.
struct WalTicket {
  WalPosition position;
  std::uint64_t end = 0;
};

struct WalOptions {
  WalGeometry geometry;  // count and size of a WAL being created (wal_id is ignored)
  WalSyncPolicy sync_policy = WalSyncPolicy::kAlways;
  std::size_t max_group_bytes = 1 << 20;     // the most one write carries but a big record
  std::size_t max_buffered_bytes = 1 << 20;  // unwritten tail bytes before appends wait
  runtime::Duration sync_interval = std::chrono::seconds(1);
  // Under kEverySec, called by the timer before each sync: what the WAL's records need
  // durable first (the engine's logged values). Its failure poisons the WAL.
  std::function<Status()> before_timer_sync;
  // Under kEverySec: whether the hook above still has work (the timer keeps running while
  // it has, even with nothing of its own to write).
  std::function<bool()> timer_work_pending;
  // Receives the loud message when the WAL is poisoned; stderr when empty.
  std::function<void(const std::string&)> log;
};

struct WalStats {
  std::uint64_t batches = 0;
  std::uint64_t groups = 0;             // aligned writes of records
  std::uint64_t payload_bytes = 0;      // batch bytes
  std::uint64_t bytes_written = 0;      // every byte written: records, padding, zero pages
  std::uint64_t syncs = 0;              // wal_syncs: fdatasyncs and durable writes
  std::uint64_t durable_writes = 0;     // groups written with O_DSYNC (no fdatasync after)
  std::uint64_t full_waits = 0;         // wal_full_waits: waits for a flushed segment
  std::uint64_t max_group_batches = 0;
  std::uint64_t buffer_waits = 0;       // unsynced appends that waited for the tail to drain
  std::uint64_t tail_writes = 0;        // writes of a padded partial tail (sync, timer, close)
  // Zeros written ahead of durable groups ("Zeroing ahead"), not in bytes_written: a
  // segment's one-time preparation, not log traffic.
  std::uint64_t zeroed_bytes = 0;
};

class WalWriter {
 public:
  static constexpr std::size_t kZeroAheadBytes = 256 << 10;  // see "Zeroing ahead"

  // Takes over the segments after recover_wal() returned `recovery`; after a torn tail it
  // first erases the torn bytes. Spawns the sync fiber for kEverySec.
  static Result<std::unique_ptr<WalWriter>> open(WalSegments segments, const WalOptions& options,
                                                 const WalRecovery& recovery);
  ~WalWriter();

  // Logs `batch` (its sequence already set) and returns where its record starts: once its
  // record is durable if `sync` or kAlways, once it is written under kEverySec (or under
  // kAlways when `written_suffices`: the caller holds the batch durable elsewhere), else
  // once it is in the tail (kNo, or kEverySec with `tail_suffices`: another log holds the
  // batch against a process crash). InvalidArgument if the batch cannot fit in a segment;
  // the poisoning error after a failed write or sync.
  Result<WalPosition> append(const WriteBatch& batch, bool sync, bool written_suffices = false,
                             bool tail_suffices = false);
  // append() in two steps, for a caller that acts between them (the engine inserts the
  // batch into its memtable): enqueue() copies the record into the tail without
  // suspending, so records enter the log in the order of the calls; await() returns when
  // append() would have.
  Result<WalTicket> enqueue(const WriteBatch& batch);
  Status await(const WalTicket& ticket, bool sync, bool written_suffices = false,
               bool tail_suffices = false);
  // Every batch with sequences <= `sequence` is flushed: its segment may be reused.
  void mark_flushed(SequenceNumber sequence);
  // Makes everything appended so far durable.
  Status sync();
  // Makes durable every record acknowledged before it was (awaited without sync under
  // kEverySec or kNo, and not durable elsewhere); returns at once when there is none. A
  // multi-shard write needs no more of a shard before its parts (src/types/
  // multi_shard_log.h, step 0): records whose caller holds them durable elsewhere (the parts
  // of earlier multi-shard writes over every shard) can wait for the background sync.
  Status sync_acknowledged();
  // sync_acknowledged() would find nothing to do.
  bool acknowledged_durable() const { return durable_ >= acknowledged_unsynced_; }
  // Writes and syncs the tail, stops the flusher and timer fibers and closes the files.
  Status close();

  const WalStats& stats() const { return stats_; }
  Status health() const { return poisoned_; }
  const WalGeometry& geometry() const { return segments_.geometry(); }
  // Segments holding unflushed records, the one being written and those the tail's
  // records already reached: the engine flushes a memtable before this reaches
  // segment_count.
  std::uint32_t segments_in_use() const;
  // Whether a record of `payload_size` bytes enqueued now would reach a segment without
  // waiting for a flush to free one: every segment between the one being written and the
  // one the record would land in is free already.
  bool takes_without_waiting(std::size_t payload_size) const;

 private:
  struct Group;
  using GroupPtr = std::unique_ptr<Group>;

  WalWriter(WalSegments segments, const WalOptions& options, const WalRecovery& recovery);
  Status erase_torn_tail(const WalRecovery& recovery);
  Group& group_for(std::uint64_t record_size);
  GroupPtr new_group(std::uint64_t ring, std::uint64_t start);
  void recycle(GroupPtr group);
  void cut(Group& group);
  void share_partial_page(Group& group);
  // Unsynced writes go to the page cache unless every acknowledgement waits for a sync
  // anyway (kAlways: the sync would write the pages out right after, so going straight to
  // the device costs nothing more).
  bool buffered_writes() const { return options_.sync_policy != WalSyncPolicy::kAlways; }
  void seal_before(Group& group, std::size_t offset);
  bool has_full_pages() const;
  // How far a waiting appender needs the log to have gone.
  enum class Reach { kWritten, kDurable };
  Status wait_for(std::uint64_t end, Reach reach);
  void wait_for_room();
  void acquire_io();
  void release_io();
  // `durable`: each group is written with FileHandle::write_durable_at (only when nothing
  // written before is unsynced: then the write alone makes everything durable).
  enum class Tail { kFullPages, kWhole, kSharePartial };
  Status write_tail(Tail mode, bool durable = false);
  Status write_group(Group& group, bool durable);
  Status enter_segment(std::uint64_t ring);
  Status zero_ahead(std::uint32_t segment, std::uint64_t from, std::uint64_t to);
  Status sync_current();
  bool segment_free(std::uint32_t segment) const;
  void poison(const Status& error);
  void start_flusher();
  void flush_loop();
  void start_timer();
  void timer_loop();

  WalSegments segments_;
  WalOptions options_;
  std::uint64_t segment_size_;
  std::size_t max_buffered_;
  std::vector<WalSegmentState> state_;
  std::vector<std::uint64_t> zeroed_to_;  // per segment: written by zero_ahead up to there
  runtime::AlignedBuffer zeros_;
  std::deque<GroupPtr> queue_;       // the tail, oldest group first
  std::vector<GroupPtr> spare_groups_;
  std::size_t buffered_ = 0;         // record bytes in the tail, not yet written
  std::uint64_t current_ring_;       // the segment being written
  std::uint64_t written_end_;        // end of its last wholly written record
  std::uint64_t durable_ = 0;        // logical position: every record before it is synced
  // The end of the last record acknowledged unsynced whose caller holds it nowhere else.
  std::uint64_t acknowledged_unsynced_ = 0;
  std::uint64_t written_ = 0;        // every record before it is written (>= durable_)
  std::uint64_t appended_ = 0;       // logical end of the newest record appended
  bool dirty_ = false;               // the current segment has unsynced writes
  std::uint64_t tail_ring_;          // where the newest record in the tail ends
  std::uint64_t tail_end_;
  SequenceNumber flushed_ = 0;
  bool io_busy_ = false;
  bool closing_ = false;
  bool stopping_ = false;            // the flusher and timer fibers must return
  bool flushing_ = false;            // a flusher fiber runs
  bool timing_ = false;              // a timer fiber runs
  bool closed_ = false;
  Status poisoned_;
  runtime::ConditionVariable io_free_;    // the IO role was released
  runtime::ConditionVariable room_;       // tail bytes were written
  runtime::ConditionVariable flushed_cv_;
  runtime::Event stop_;
  runtime::FiberHandle flusher_;
  runtime::FiberHandle timer_;
  WalStats stats_;
};

}  // namespace cascade::engine
