// DB: one LSM engine instance (one per shard): the public API over the WAL, the memtables,
// the tables and the version set.
//
// Directory: CURRENT, MANIFEST-NNNNNN, NNNNNN.sst tables (engine/version/file_names.h),
// NNNNNN.vlog value-log files (engine/vlog/) and the WAL ring wal-NNN.log (engine/wal/), all
// in `dir`.
//
// Write path (db_write.cc). write() assigns the batch sequences [last + 1, last + count],
// copies it into the WAL's tail and inserts it into the mutable memtable without
// suspending in between, so WAL order, memtable order and sequence order are one order
// (WalWriter groups concurrent appends into one write). Then it waits for the WAL (its
// record written, or synced, as the policy and options say) and for its turn — every
// lower sequence acknowledged or failed — and publishes its last sequence as visible.
// Readers see only visible sequences: no acknowledgement is ever needed for what they
// read. A writer holding the lock of a key reads with ReadOptions::unacknowledged, so the
// next writer of a hot key builds on the previous one while its WAL write is still in
// flight (its own record comes later in the log, so it is acknowledged after it): writes
// of one key share WAL groups instead of waiting one WAL write each. What such a reader
// returns to a client must wait for wait_visible(). A writer whose WAL append failed
// still takes its turn, so later writers are never stuck behind it; the WAL is poisoned
// then, so no acknowledged write follows a hole (the failed write's data may stay
// readable: it was never acknowledged, like a write in flight at a crash).
//
// Logged values (options.separate_at_write; engine/vlog/vlog_appender.h, FORMAT.md "Values
// logged at write time"). A value of at least min_blob_size bytes is appended to the
// mutable memtable's value-log appender as its sequence is taken, and the WAL logs its
// pointer instead of the value; the memtable keeps the value. Making room for a write
// includes the appender's room (a new file, or more allocated space), which may suspend,
// so room is made again until neither step suspends. Before its WAL wait a writer that
// logged values writes out (or, when its record must be durable, syncs) every open
// appender; a durable writer syncs them in any case; an appender's failure fails every
// write that finishes after it (FORMAT.md has the rules and why they keep a prefix).
//
// Memtables (db_flush.cc). Before taking a sequence, a writer makes room: when the mutable
// memtable passes options.memtable_size, or the WAL is nearly full (segments_in_use() >=
// segment_count - 1), the memtable becomes immutable, remembering the last inserted
// sequence as its flushed sequence (every lower sequence is in it or in older data), and a
// fresh one takes its place. A background fiber (Priority::kBackground) flushes immutable
// memtables oldest first: write_level0_table (logged values become the pointers their
// writes made; other values of at least min_blob_size go to new value-log files, synced,
// and the table holds pointers), then the memtable's logged files are finished, then a
// version edit adding the table to level 0 and the value-log files with the new flushed
// sequence, then the
// memtable is dropped and
// WalWriter::mark_flushed lets the WAL reuse its segments. With max_immutable_memtables
// already waiting, a writer stalls until a flush finishes (stats: write_stalls,
// write_stall_micros). A flush that fails with NoSpace is retried every
// kFlushRetryInterval; meanwhile writes that need a new memtable fail with NoSpace (and
// nothing acknowledged is lost: it is in the WAL), except decided ones
// (WriteOptions::decided), which the full memtable takes while the WAL has a free segment
// for them. Any other flush failure (an IO error, a poisoned manifest) stops writes for
// good: write() returns it until reopen.
//
// Compaction (db_compaction.cc, engine/compaction/). After every version change (flush,
// compaction, open) the picker is asked whether a level is over its score; if so, up to
// options.compaction.max_background_compactions background fibers (Priority::kBackground)
// run compactions until none is needed: a trivial move is one version edit; any other job
// writes and syncs its output tables, then one version edit removes the inputs and adds
// the outputs. Tables a running job holds are busy: no other job picks them. The input
// files are deleted once no live Version (an iterator's, a running job's) names them —
// checked after every flush and compaction and at close; whatever a crash leaves behind
// is deleted at the next open. Compaction IO passes the engine's rate limiter
// (set_compaction_rate_limit). Flush keeps priority: a job yields once per output block,
// and while writers wait for a flush (every immutable slot taken) it waits for that
// flush. A background job failing with NoSpace is retried every kFlushRetryInterval; any
// other failure (of a background job or of compact_range, which returns it) stops writes
// as a flush failure does. compact_range() flushes, then compacts the range level by
// level down to the deepest level holding it.
//
// Value-log GC (db_compaction.cc, engine/vlog/vlog_gc.h). Every compaction job (unless
// options.compaction.value_hooks replaces it) counts the records of the pointers it drops
// as garbage of their files and relocates the values of files past
// options.vlog_gc_garbage_ratio into new value-log files; its edit carries the garbage,
// the new files and the removal of files it empties. When no level needs compaction the
// picker schedules rewrites of tables pointing into such files. A removed file is deleted
// like a compaction input, once no live Version names it (an iterator opened before still
// reads it); a file left with nothing live but still named (concurrent jobs, or a crash
// between their edits) is removed by an edit of its own after every compaction and at open.
//
// Write throttle (db_write_throttle.cc, compaction/write_controller.h). Before taking a
// sequence, a write checks the controller's state, recomputed at every version change:
// in a slowdown it sleeps a delay growing with the compaction debt, in a stop it waits
// until a compaction (or close) changes the state. Episodes are logged and counted
// (DBStats write_slowdowns, write_stops and their micros). The same recomputation sets
// the shard scheduler's background share from the debt (CompactionOptions::
// max_background_share), and every write passes runtime::this_fiber::maybe_yield() first,
// so a writer that never waits still lets flush and compaction run. Not applied when automatic
// compaction is off (max_background_compactions 0, or paused by
// set_auto_compactions(false)): nothing would lift a stop. Pausing lifts a slowdown or a
// stop in force at once; resuming recomputes the state and schedules compaction.
//
// Read path (db_read.cc). get() and iterator() take the sources at one instant — the
// mutable memtable, the immutable ones newest first, the current Version — so a flush
// finishing meanwhile changes nothing they see: an iterator holds them as shared
// pointers; get() probes the memtables in place before it can suspend and holds only the
// Version it then reads the tables under. A get probes them in
// that order (level-0 tables newest first, then one table per deeper level) and stops at
// the first version of the key at or below the read's sequence; a tombstone means absent.
// A kValuePointer entry is resolved through the value log (ValueLog::get, under the same
// version); iterators resolve theirs with sequential readahead (engine/vlog/vlog_prefetcher.h).
// The key's hash is computed once for every table's filter. Corruption in any source is
// returned as Corruption, never as data or as absence.
//
// Checkpoint (db_checkpoint.cc, engine/checkpoint.h). checkpoint(dir) flushes the
// memtables, then hard-links the files of the current version into `dir` and writes a
// manifest and CURRENT there: a consistent copy as of the flushed sequence, unaffected by
// later writes, compactions and deletions in the source. Writes go on meanwhile; close()
// waits for a checkpoint in progress.
//
// Calling rules: one shard. open, write, get, iterator steps and close may suspend the
// calling fiber and must run on a fiber of the shard's scheduler; snapshot() and stats()
// never suspend. close() before destruction; iterators and snapshots must not outlive the
// DB.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/compaction/compaction_picker.h"
#include "engine/compaction/write_controller.h"
#include "engine/db_options.h"
#include "engine/iterator/db_iterator.h"
#include "engine/memtable/memtable.h"
#include "engine/snapshot.h"
#include "engine/table_cache.h"
#include "engine/version/version_set.h"
#include "engine/vlog/obsolete_vlog_files.h"
#include "engine/vlog/value_log.h"
#include "engine/vlog/vlog_appender.h"
#include "engine/vlog/vlog_gc.h"
#include "engine/wal/wal_writer.h"
#include "engine/write_batch.h"
#include "src/runtime/condition_variable.h"
#include "src/runtime/rate_limiter.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"
#include "src/runtime/wait_group.h"

namespace cascade::engine {

inline constexpr runtime::Duration kFlushRetryInterval = std::chrono::milliseconds(100);

class DB {
 public:
  static Result<std::unique_ptr<DB>> open(runtime::FileSystem& fs, const std::string& dir,
                                          const DBOptions& options);
  ~DB();
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // With DBOptions::flush_on_close, first flushes every memtable (a failure does not stop
  // the close: the WAL still holds those records and the next open replays them). Then
  // waits for writes in flight and the running flush, syncs and closes the WAL.
  Status close();

  Status write(WriteBatch& batch, const WriteOptions& options = {});
  // write() in two steps, for a caller that holds a lock the next writer waits for and
  // releases it in between (early lock release): begin_write() returns once the batch is
  // in the WAL's tail and the memtable, readable with ReadOptions::unacknowledged;
  // finish_write() waits for the WAL and the batch's turn and returns write()'s status.
  // Every pending write must be finished, once, on the same shard: later writes' turns
  // wait for it.
  Result<PendingWrite> begin_write(WriteBatch& batch, const WriteOptions& options = {});
  Status finish_write(PendingWrite& pending);
  // Makes every write acknowledged so far durable, as if each had asked for sync: a
  // barrier after writes made without it (the server's multi-shard writes use it so an
  // earlier unsynced write cannot be lost while a later write recovery finishes survives).
  Status sync_wal();
  // sync_wal() for the writes that need it: those acknowledged unsynced and not written
  // with WriteOptions::durable_elsewhere. At once when every such write is durable already.
  Status sync_wal_acknowledged();
  Status put(std::string_view key, std::string_view value, const WriteOptions& options = {});
  Status del(std::string_view key, const WriteOptions& options = {});

  // The value of `key` as of options.snapshot (or now); nullopt if absent or deleted.
  Result<std::optional<std::string>> get(std::string_view key, const ReadOptions& options = {});
  // A hint before several get()s: brings the memtables' index paths to `keys` (at most
  // BTree::kMaxPrefetch) into the cache together, so the gets' cache misses overlap instead
  // of coming one after another. Never suspends; changes nothing. `written`: those of the
  // keys that the caller will then write one at a time (read-modify-writes): the active
  // memtable's insert paths to them are fetched too.
  void prefetch(std::span<const std::string_view> keys,
                std::span<const std::string_view> written = {}) const;
  // A scan as of options.snapshot within the options' bounds and prefix. Errors are
  // reported by the iterator's status().
  std::unique_ptr<DBIterator> iterator(const ReadOptions& options = {});

  Snapshot snapshot() { return Snapshot(snapshots_, visible_sequence_); }
  // The newest sequence in the memtable, acknowledged or not (ReadOptions::unacknowledged),
  // and a wait until every write up to `sequence` is acknowledged and visible to readers
  // (or failed: a failed write takes its turn too).
  SequenceNumber last_inserted() const { return inserted_through_; }
  // False from a flush failing for want of space until a flush lands, and for good after
  // a hard error: writes needing room may then be refused. Any thread may ask (an atomic):
  // a caller on another shard about to decide a write whose part here must not be refused
  // (WriteOptions::decided) refuses the whole write instead while this is false.
  bool accepts_writes() const { return accepts_writes_.load(std::memory_order_relaxed); }
  // Whether `batch` fits the one WAL record a write makes (else write() refuses it), with
  // the values it would log to the value log now. Any thread may ask, as for
  // accepts_writes(): the same caller checks a part before deciding its write.
  bool fits_one_record(const WriteBatch& batch) const;
  void wait_visible(SequenceNumber sequence);
  const SnapshotList& snapshots() const { return snapshots_; }

  DBStats stats() const;
  // Waits until every immutable memtable present now is flushed (tests, benchmarks).
  Status wait_for_flushes();
  // Makes the mutable memtable immutable and waits for its flush (tests, benchmarks).
  Status flush();

  // A consistent copy of the database in `dir` (which must not exist), on the same file
  // system; see "Checkpoint" above.
  Result<CheckpointInfo> checkpoint(const std::string& dir);
  // Flushes, then compacts every table holding keys in [begin, end] (nullopt: unbounded)
  // down to the deepest level holding the range, dropping what no reader needs there
  // (tests, the server). Waits for compactions holding tables it needs.
  Status compact_range(std::optional<std::string_view> begin,
                       std::optional<std::string_view> end);
  // Waits until no compaction runs and none is needed, or a compaction error (tests).
  Status wait_for_compactions();
  // Live settings (the server's CONFIG SET). Each applies from now on; none rewrites what
  // is already on disk.
  // Compaction and value-log GC IO in bytes per second; 0 is unlimited. Fibers waiting
  // for tokens recompute at once.
  void set_compaction_rate_limit(std::uint64_t bytes_per_second) {
    compaction_limiter_.set_rate(bytes_per_second);
  }
  std::uint64_t compaction_rate_limit() const { return compaction_limiter_.rate(); }
  // Automatic compaction on or paused (options.compaction.disable_auto_compactions says
  // which at open). Paused, no new background job is picked — one running finishes its
  // job and stops — and the write throttle is off; resumed, compaction is scheduled at
  // once if a level needs it. Has no effect while max_background_compactions is 0. On a
  // fiber of the shard (resuming spawns the compaction fiber).
  void set_auto_compactions(bool enabled);
  bool auto_compactions() const { return !auto_compactions_paused_; }
  // The mutable memtable's size threshold, checked at the next write (a smaller one
  // makes that write switch memtables).
  void set_memtable_size(std::size_t bytes) {
    memtable_size_ = bytes;
    huge_blocks_->set_capacity(bytes);
  }
  std::size_t memtable_size() const { return memtable_size_; }
  // Values of at least this many bytes go to the value log at the next flush
  // (kNeverSeparate keeps all inline); values already written stay where they are.
  void set_min_blob_size(std::size_t bytes) { min_blob_size_.store(bytes, std::memory_order_relaxed); }
  std::size_t min_blob_size() const { return min_blob_size_.load(std::memory_order_relaxed); }
  // The block cache's capacity; shrinking evicts at once. Ignored by a DB opened without
  // a cache (block_cache_size 0): nothing holds a cache to grow.
  void set_block_cache_size(std::size_t bytes) {
    if (block_cache_) block_cache_->set_capacity(bytes);
  }
  // The table files the current version names, by number (tests: no leaked files).
  std::set<std::uint64_t> live_table_files() const;
  // The same for value-log files.
  std::set<std::uint64_t> live_vlog_files() const;
  // Those and the files of values logged at write time whose memtables are not flushed yet
  // (the WAL names them): every value-log file the engine must keep.
  std::set<std::uint64_t> kept_vlog_files() const;

 private:
  struct Immutable {
    std::shared_ptr<MemTable> mem;
    SequenceNumber last_sequence = 0;  // every sequence <= it is in mem or older data
    std::shared_ptr<LoggedValues> logged;  // the values its writes logged
  };
  struct ReadSources;

  DB(runtime::FileSystem& fs, std::string dir, const DBOptions& options);
  Status recover();

  // db_write.cc
  // `decided`: WriteOptions::decided, never refused for want of space.
  Status make_room_for_write(bool decided = false);
  // A decided write (WriteOptions::decided) that cannot land without waiting on a full
  // disk: the engine stops acknowledging writes (bg_error_), so no write of this shard
  // can follow it that recovery, writing it at the next open, would overtake.
  Status give_up_decided(const Status& cause);
  // The only writers of flush_error_ and bg_error_: they keep accepts_writes_ in step.
  void set_flush_error(Status s);
  void set_bg_error(Status s);
  bool memtable_is_full() const;
  void wait_for_turn(SequenceNumber first);
  void finish_turn(SequenceNumber last);
  // What logging `batch`'s values of at least `threshold` bytes at write time
  // (DBOptions::separate_at_write) takes: the most their records take in a value-log file
  // (0 if it has none), and the most the WAL record then takes, with pointers in place of
  // those values (the batch's own size when it logs none).
  struct LoggedBound {
    std::uint64_t vlog_bytes = 0;
    std::uint64_t wal_bytes = 0;
  };
  LoggedBound logged_bytes_bound(const WriteBatch& batch, std::size_t threshold) const;
  // The mutable memtable's current appender has `bytes` of room, or a new one is opened or
  // more space allocated (suspends). Returns true when it suspended: the caller makes
  // room again.
  Result<bool> prepare_appender(std::uint64_t bytes);
  // The stored forms of every value the batch logs, in batch order, when they come to
  // LargeValueCompressor::kLargeValueSize bytes or more (`logged_bytes`); else none, and
  // log_values compresses them itself. May suspend (value_compression.h, "Batches of
  // large values").
  std::vector<StoredValue> prepare_logged_values(const WriteBatch& batch, std::size_t threshold,
                                                 std::uint64_t logged_bytes);
  // Logs the batch's large values to the current appender (in their `prepared` forms when
  // there are any) and returns the WAL's copy of the batch with their pointers. Never
  // suspends.
  WriteBatch log_values(const WriteBatch& batch, SequenceNumber first, std::size_t threshold,
                        std::span<const StoredValue> prepared);
  // write_out() (or sync()) on every open appender, oldest first. A failure is kept in
  // values_error_ and bg_error_: no later write is acknowledged.
  Status write_out_appenders(bool sync);
  // Whether an open appender holds bytes not yet durable (the everysec timer goes on).
  bool values_unsynced() const;
  // Finishes the logged files of a flushed memtable; their version-edit entries.
  Result<std::vector<VlogFile>> finish_logged(LoggedValues& logged,
                                              const std::map<std::uint64_t, std::uint64_t>& live);

  Status sync_wal_for(bool acknowledged_only);
  // db_flush.cc
  void switch_memtable();
  void schedule_flush();
  void flush_loop();
  Status flush_oldest();
  ValueSeparatorOptions separator_options() const;

  // db_compaction.cc
  void on_version_changed();
  void maybe_schedule_compaction();
  void compaction_loop();
  Status run_compaction(const Compaction& c);
  void note_compaction_failure(const Status& s);
  Status install_compaction_job(const Compaction& c);
  Status compaction_pause();
  // Background compaction may run: max_background_compactions > 0 and not paused.
  bool auto_compaction_on() const {
    return options_.compaction.max_background_compactions > 0 && !auto_compactions_paused_;
  }
  Status compact_level_range(int level, const std::optional<std::string>& begin,
                             const std::optional<std::string>& end);
  void purge_obsolete_files();
  Status retire_empty_vlogs();
  void update_write_state();
  Status throttle_write();
  void log(const std::string& message) const;

  // db_read.cc
  ReadSources read_sources(const ReadOptions& options) const;
  // The tables' part of get(): `version` must stay referenced until it returns.
  Result<std::optional<std::string>> get_from_tables(const Version& version,
                                                     SequenceNumber sequence,
                                                     std::string_view key, std::uint64_t hash);
  Result<std::optional<std::string>> get_from_table(const TableFile& table,
                                                    std::string_view seek_key,
                                                    std::uint64_t hash, const Version& version,
                                                    bool& found);

  runtime::FileSystem& fs_;
  const std::string dir_;
  const DBOptions options_;
  std::size_t memtable_size_;  // options_.memtable_size until set_memtable_size
  // options_.min_blob_size until set_min_blob_size; atomic for fits_one_record().
  std::atomic<std::size_t> min_blob_size_;
  std::unique_ptr<VersionSet> versions_;
  std::unique_ptr<WalWriter> wal_;
  std::unique_ptr<BlockCache> block_cache_;  // null when block_cache_size is 0
  TableCache tables_;  // after block_cache_: its tables pin cached blocks
  ValueLog value_log_;  // after block_cache_: it caches values there
  VlogGc vlog_gc_;      // after value_log_: it reads values through it

  // A flushed memtable's 2 MiB blocks, kept for the next one (memtable/arena.h); at most
  // memtable_size_ bytes.
  std::shared_ptr<HugeBlockPool> huge_blocks_;
  std::shared_ptr<MemTable> mem_;
  std::shared_ptr<LoggedValues> logged_;  // the values mem_'s writes logged
  std::deque<Immutable> imm_;  // oldest first
  // Every appender not yet finished (of mem_ and of the immutable memtables), oldest first.
  std::vector<std::shared_ptr<VlogAppender>> open_appenders_;
  // Counted by this engine's value-log appenders as they write, and added by each flush
  // once it lands (relocation copies values in their stored form: nothing to count).
  ValueCompressionStats value_compression_;
  // Large values' stored forms, made before their write takes its sequences (begin_write).
  LargeValueCompressor large_values_{options_.compression};

  SequenceNumber next_sequence_ = 1;     // the first sequence of the next batch
  SequenceNumber inserted_through_ = 0;  // every sequence <= it is in a memtable
  SequenceNumber visible_sequence_ = 0;  // every sequence <= it took its turn: readers see it
  runtime::ConditionVariable turn_cv_;
  std::uint64_t writes_in_flight_ = 0;
  runtime::WaitGroup writers_;

  bool flush_running_ = false;
  runtime::WaitGroup flusher_;
  runtime::ConditionVariable flush_done_;  // a flush finished or failed
  Status flush_error_;                     // NoSpace: retried; writes needing room fail
  Status bg_error_;                        // permanent: every write fails with it
  std::atomic<bool> accepts_writes_{true};  // flush_error_ and bg_error_ both ok
  Status values_error_;  // an appender failed: writes finishing after it fail with it
  bool closing_ = false;
  bool closed_ = false;

  SnapshotList snapshots_;
  DBStats stats_;

  const LevelOptionsArray level_options_;
  CompactionPicker picker_;
  WriteController write_controller_;
  runtime::RateLimiter compaction_limiter_;
  BusyFiles busy_;                             // tables running compactions hold
  std::size_t compactions_running_ = 0;        // background fibers
  bool auto_compactions_paused_;               // set_auto_compactions(false)
  runtime::WaitGroup compactors_;              // background fibers and compact_range calls
  runtime::ConditionVariable compaction_done_;  // a compaction ended or the state changed
  Status compaction_error_;                    // NoSpace: being retried
  std::set<std::uint64_t> obsolete_tables_;    // compaction inputs not yet deleted
  ObsoleteVlogFiles obsolete_vlogs_;           // value-log files removed, not yet deleted
  bool retiring_vlogs_ = false;                // a retire_empty_vlogs edit is being logged
  std::uint64_t purged_manifest_ = 0;          // manifests below this one are deleted
};

}  // namespace cascade::engine
