// DB: open (recovery), close and statistics. The write path is in db_write.cc, memtable
// switches and flushes in db_flush.cc, compaction and the write throttle in
// db_compaction.cc, reads in db_read.cc.
#include "engine/db.h"

#include <algorithm>
#include <cstdio>

#include "engine/compaction/compaction_debt.h"
#include "engine/recovery.h"

namespace cascade::engine {

namespace {

RelocationPolicy relocation_policy(const DBOptions& options) {
  RelocationPolicy p;
  p.garbage_ratio = options.vlog_gc_garbage_ratio;
  p.age_cutoff = options.vlog_gc_age_cutoff;
  return p;
}

}  // namespace

DB::DB(runtime::FileSystem& fs, std::string dir, const DBOptions& options)
    : fs_(fs),
      dir_(std::move(dir)),
      options_(options),
      memtable_size_(options.memtable_size),
      min_blob_size_(options.min_blob_size),
      block_cache_(options.block_cache_size == 0
                       ? nullptr
                       : std::make_unique<BlockCache>(
                             BlockCacheOptions{.capacity = options.block_cache_size})),
      tables_(fs, dir_, options.prefix_extractor, block_cache_.get()),
      value_log_(fs, dir_, block_cache_.get()),
      vlog_gc_(fs, dir_, value_log_,
               VlogGcOptions{.separator = separator_options(),
                             .relocation = relocation_policy(options),
                             .rate_limiter = &compaction_limiter_},
               [this] { return versions_->new_file_number(); },
               [this] { return versions_->current(); }),
      huge_blocks_(std::make_shared<HugeBlockPool>(options.memtable_size)),
      mem_(std::make_shared<MemTable>(huge_blocks_, memtable_size_)),
      logged_(std::make_shared<LoggedValues>()),
      level_options_(resolve_level_options(options.compaction, options.compression)),
      picker_(options_.compaction, level_options_, relocation_policy(options)),
      write_controller_(options_.compaction),
      compaction_limiter_(options.compaction.rate_limit),
      auto_compactions_paused_(options.compaction.disable_auto_compactions) {}

DB::~DB() {
  assert((closed_ || !wal_) && "close() the DB before destroying it");
}

Result<std::unique_ptr<DB>> DB::open(runtime::FileSystem& fs, const std::string& dir,
                                     const DBOptions& options) {
  std::unique_ptr<DB> db(new DB(fs, dir, options));
  if (Status s = db->recover(); !s) {
    if (db->wal_) (void)db->close();
    return s;
  }
  return db;
}

// The order matters: the version set says what is flushed, files it does not name go, the
// WAL replays what is not flushed, and only then may the WAL writer reuse segments.
Status DB::recover() {
  auto versions = VersionSet::open_or_create(fs_, dir_, options_.versions);
  if (!versions) return versions.error();
  versions_ = std::move(*versions);

  auto segments = WalSegments::open(fs_, dir_, options_.wal.geometry);
  if (!segments) return segments.error();
  const SequenceNumber flushed = versions_->current()->flushed_sequence();
  auto replay = replay_wal(*segments, flushed, options_.tolerant_wal_recovery, *mem_, *logged_,
                           fs_, dir_);
  if (!replay) {
    (void)segments->close();
    return replay.error();
  }
  // After the replay: it says which value-log files the WAL still names.
  for (const LoggedValues::RecoveredFile& f : logged_->recovered) {
    versions_->reserve_file_number(f.file_number);
  }
  auto deleted = delete_obsolete_files(fs_, dir_, *versions_, *logged_);
  if (!deleted) {
    (void)segments->close();
    return deleted.error();
  }
  stats_.obsolete_files_deleted = *deleted;
  stats_.recovered_cut_batches = replay->batches_cut;
  if (replay->batches_cut > 0) {
    std::string message = "engine " + dir_ + ": wal recovery left out " +
                          std::to_string(replay->batches_cut) +
                          " unacknowledged batch(es) from the first whose logged value a crash cut off";
    if (options_.wal.log) {
      options_.wal.log(message);
    } else {
      std::fprintf(stderr, "%s\n", message.c_str());
    }
  }
  const WalRecovery& wal = replay->wal;
  stats_.recovered_batches = replay->batches_replayed;
  stats_.recovered_torn_tail = wal.torn_tail;
  stats_.recovered_dropped_records = wal.dropped_records;
  stats_.recovered_skipped_damage = wal.skipped_damage;
  if (wal.torn_tail || wal.skipped_damage > 0) {
    std::string message = "engine " + dir_ + ": wal recovery dropped " +
                          std::to_string(wal.dropped_records) + " unsynced record(s) after a torn tail, skipped " +
                          std::to_string(wal.skipped_damage) + " damaged range(s)";
    if (options_.wal.log) {
      options_.wal.log(message);
    } else {
      std::fprintf(stderr, "%s\n", message.c_str());
    }
  }

  WalOptions wal_options = options_.wal;
  wal_options.before_timer_sync = [this] { return write_out_appenders(true); };
  wal_options.timer_work_pending = [this] { return values_unsynced(); };
  auto writer = WalWriter::open(std::move(*segments), wal_options, wal);
  if (!writer) return writer.error();
  wal_ = std::move(*writer);
  wal_->mark_flushed(flushed);

  // Past every sequence in the log, replayed or cut, so a cut batch's sequences are never
  // taken again by a new write.
  SequenceNumber last = std::max({versions_->last_sequence(), replay->max_sequence, flushed});
  versions_->set_last_sequence(last);
  next_sequence_ = last + 1;
  inserted_through_ = visible_sequence_ = last;
  purged_manifest_ = versions_->manifest_file_number();
  // After a cut the replayed memtable goes to a table at once: the flushed sequence then
  // passes the cut batches, so no later replay meets them again. (Without one, its logged
  // files, still unfinished, wait for its flush like an appender's: the WAL names them, and
  // an open on a full disk still succeeds.)
  if (replay->batches_cut > 0) {
    switch_memtable();
    if (Status s = wait_for_flushes(); !s) return s;
  }
  // A crash between two compactions' edits may leave a file with nothing live named.
  if (Status s = retire_empty_vlogs(); !s) return s;
  purge_obsolete_files();
  update_write_state();
  maybe_schedule_compaction();
  return Status::ok();
}

Status DB::close() {
  if (closed_) return Status::ok();
  if (options_.flush_on_close && !closing_ && bg_error_.is_ok()) {
    // A failure leaves the records in the WAL, which the next open replays: close goes on.
    (void)flush();
  }
  closing_ = true;
  flush_done_.notify_all();       // stalled writers give up
  compaction_done_.notify_all();  // stopped writers and waiting compact_range calls too
  compaction_limiter_.set_rate(0);  // releases compaction IO waiting for tokens
  writers_.wait();
  flusher_.wait();
  compactors_.wait();
  purge_obsolete_files();
  closed_ = true;
  // The logged values are durable before the WAL's last sync; the next open replays them.
  Status values = write_out_appenders(true);
  open_appenders_.clear();
  Status wal = wal_->close();
  return values ? wal : values;
}

DBStats DB::stats() const {
  DBStats s = stats_;
  s.last_sequence = visible_sequence_;
  s.memtable_bytes = mem_->approximate_memory_usage();
  s.memtable_index_bytes = mem_->point_index_bytes();
  for (const auto& imm : imm_) s.memtable_index_bytes += imm.mem->point_index_bytes();
  s.memtable_pool_bytes = huge_blocks_->kept_bytes();
  s.memtable_entries = mem_->entry_count();
  s.immutable_memtables = imm_.size();
  s.compaction_rate_limit = compaction_limiter_.rate();
  s.compaction_bytes_charged = compaction_limiter_.charged();
  auto version = versions_->current();
  s.level0_files = version->num_files(0);
  for (int level = 0; level < kNumLevels; ++level) {
    s.levels[level] = {version->num_files(level), version->level_bytes(level)};
    s.table_files += version->num_files(level);
    s.table_bytes += version->level_bytes(level);
  }
  for (const auto& [number, v] : version->vlog_files()) {
    ++s.vlog_files;
    s.vlog_bytes += v.file_size;
    s.vlog_garbage_bytes += v.garbage_bytes;
    s.vlog_live_bytes += v.live_bytes();
  }
  ValueLogStats vs = value_log_.stats();
  s.vlog_reads = vs.reads;
  s.vlog_cache_hits = vs.cache_hits;
  s.vlog_values_compressed = value_compression_.compressed;
  s.vlog_values_incompressible = value_compression_.incompressible;
  s.vlog_compression_skips = value_compression_.skipped;
  s.running_compactions = compactions_running_;
  s.pending_compaction_bytes = pending_compaction_bytes(
      *version, level_options_, options_.compaction.l0_compaction_trigger);
  s.live_bytes_estimate = estimate_live_bytes(*version);
  if (s.user_bytes_written > 0) {
    s.write_amplification =
        static_cast<double>(s.flushed_bytes + s.vlog_bytes_written + s.compaction_bytes_written) /
        static_cast<double>(s.user_bytes_written);
  }
  if (s.live_bytes_estimate > 0) {
    s.space_amplification =
        static_cast<double>(s.table_bytes) / static_cast<double>(s.live_bytes_estimate);
  }
  s.live_snapshots = snapshots_.size();
  s.open_tables = tables_.size();
  const WalStats& w = wal_->stats();
  s.wal_batches = w.batches;
  s.wal_groups = w.groups;
  s.wal_syncs = w.syncs;
  s.wal_bytes_written = w.bytes_written;
  s.wal_zeroed_bytes = w.zeroed_bytes;
  s.wal_full_waits = w.full_waits;
  s.wal_segments_in_use = wal_->segments_in_use();
  if (block_cache_) {
    BlockCacheStats c = block_cache_->stats();
    s.block_cache_hits = c.hits;
    s.block_cache_misses = c.misses;
    s.block_cache_usage = c.usage;
  }
  return s;
}

}  // namespace cascade::engine
