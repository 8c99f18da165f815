// The engine's options (per open, per write, per read) and its statistics.
//
// DBOptions are fixed for the life of an open engine. The WAL's geometry applies only when
// the WAL is created; an existing WAL keeps the geometry its header pages declare.
//
// Prefix extractor contract: for a scan with ReadOptions::prefix P, the engine asks a
// table's prefix filter about P only when extract(P) == P, and then relies on every user
// key that starts with P having extract(key) == P (true of fixed-length and
// delimiter-terminated extractors). Any other prefix scan reads every table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "engine/compaction/compaction_options.h"
#include "engine/format/internal_key.h"
#include "engine/memtable/memtable.h"
#include "engine/table/block_compression.h"
#include "engine/table/bloom_filter.h"
#include "engine/version/version_set.h"
#include "engine/vlog/value_separator.h"
#include "engine/wal/wal_writer.h"

namespace cascade::engine {

class Snapshot;

// DBOptions::min_blob_size that keeps every value in the tree.
inline constexpr std::size_t kNeverSeparate = std::numeric_limits<std::size_t>::max();

struct DBOptions {
  // The mutable memtable becomes immutable once its arena passes this many bytes.
  std::size_t memtable_size = kDefaultMemTableSize;
  // Immutable memtables waiting for their flush; a writer that needs one more waits
  // (write stall) until a flush finishes.
  std::size_t max_immutable_memtables = 2;
  // close() flushes every memtable first, so the next open replays no WAL record and reads
  // from tables alone (the server sets it: a restart then costs no replay, about 1.4 s of
  // CPU for a full 256 MiB ring). Off, the next open rebuilds the memtables from the WAL,
  // close() is quicker and a test can keep records in the WAL across a reopen; a reader
  // then finds the replayed entries in memory, where the flushed ones would add a level-0
  // table for compaction to merge while it reads (cascade-bench --flush_on_close).
  bool flush_on_close = false;
  WalOptions wal;
  // Skip damaged acknowledged WAL records at open instead of failing with Corruption.
  bool tolerant_wal_recovery = false;
  CompressionOptions compression;
  double bloom_bits_per_key = 10.0;
  // The shard's cache of uncompressed blocks (engine/cache/); 0 reads every block from disk.
  std::size_t block_cache_size = std::size_t{256} << 20;
  // Optional; must outlive the engine. See the contract above.
  const PrefixExtractor* prefix_extractor = nullptr;
  VersionSetOptions versions;
  // Key-value separation (engine/vlog/): at flush, values of at least this many bytes go to
  // value-log files and the tree keeps pointers. 0 separates every value; kNeverSeparate
  // none.
  std::size_t min_blob_size = kDefaultMinBlobSize;
  // Such values go to the value log when they are written, not at flush: the WAL logs a
  // pointer instead of the value, so the value crosses the disk once (compressed) instead
  // of twice (engine/vlog/vlog_appender.h). Off: the WAL logs them whole and the flush
  // separates them.
  bool separate_at_write = true;
  // Each value-log pointer keeps a copy of its value's first bytes, this many (at most
  // kMaxValueHeadSize = 64; engine/vlog/value_pointer.h): a reader needing only a value's
  // start (DBIterator::value_head) then never reads the value log. Flushes and relocations
  // write heads of this size; pointers written before keep theirs.
  std::size_t vlog_value_head_size = 0;
  // A flush's value-log file is closed and a new one started past this size.
  std::uint64_t vlog_file_size = kDefaultVlogFileSize;
  // Value-log GC (engine/vlog/vlog_gc.h, vlog_relocation.h): compaction moves the live
  // values out of a file among the oldest `vlog_gc_age_cutoff` share of the files whose
  // garbage ratio (of its record bytes) reaches `vlog_gc_garbage_ratio`, and the picker
  // schedules such rewrites when no level needs compaction. A ratio above 1 relocates
  // nothing (files are still deleted once nothing in them is live).
  double vlog_gc_garbage_ratio = 0.5;
  double vlog_gc_age_cutoff = 0.25;
  // Leveled compaction, its hooks and the write throttle (engine/compaction/).
  CompactionOptions compaction;
};

struct WriteOptions {
  bool sync = false;  // acknowledge only once the batch's WAL record is on disk
  // The caller holds this batch durable elsewhere (a multi-shard write's part, which its
  // decision records carry), or nothing depends on its being durable: under
  // WalSyncPolicy::kAlways it is acknowledged once its WAL record is written, as under
  // kEverySec, not synced; and DB::sync_wal_acknowledged() does not wait for it. Ignored
  // when sync is set.
  bool durable_elsewhere = false;
  // Another shard's WAL record, already written to the page cache, holds this batch
  // against a process crash (a multi-shard write's part under everysec, whose coordinator
  // wrote a copy of it first: src/types/multi_shard_log.h): under kEverySec it is
  // acknowledged once it is in the WAL's tail, as under kNo, and reaches the page cache
  // with the next group written, the flusher or the timer. Ignored when sync is set and
  // under kAlways.
  bool in_tail_suffices = false;
  // The write is already decided elsewhere and must land (a multi-shard write's part,
  // written after the record that decides it, or written by recovery:
  // src/types/multi_shard_log.h). It is not refused for want of space while it can land
  // at all: not throttled, taken by a full memtable whose flush fails for space (the
  // server checks DB::accepts_writes() before deciding, so such a memtable grows by what
  // was in flight), its large values kept in the WAL record when the value log has no
  // room (or no value-log file). When the WAL would need a segment that only a flush can
  // free, it waits for that flush rather than inside the WAL. Whatever still refuses it
  // (flushes failing for space meanwhile; a value-log failure when its values do not fit
  // a WAL record either; a record too large for a segment after min_blob_size rose) also
  // stops the engine acknowledging writes until it reopens (DB::give_up_decided), so
  // recovery, which then writes it, overtakes nothing newer; a closing or already stopped
  // engine refuses it plainly (it acknowledges nothing more anyway).
  bool decided = false;
};

// A write begun and not yet finished (DB::begin_write).
struct PendingWrite {
  SequenceNumber first = 0;  // 0: nothing to wait for (an empty batch, or finished)
  SequenceNumber last = 0;
  WalTicket ticket;
  Status status;
  bool sync = false;
  bool durable_elsewhere = false;
  bool in_tail_suffices = false;
  bool logged_values = false;  // some values went to the value log (separate_at_write)
};

struct ReadOptions {
  // Read as of this snapshot; null reads the newest data. Must outlive the call (for an
  // iterator: the iterator).
  const Snapshot* snapshot = nullptr;
  std::optional<std::string_view> lower_bound;  // inclusive, iterators only
  std::optional<std::string_view> upper_bound;  // exclusive, iterators only
  std::optional<std::string_view> prefix;       // only keys starting with it, iterators only
  // Without a snapshot: read every inserted write, also those whose WAL wait is not over
  // (db.h, "Write path"). For a writer holding the lock of what it reads, which must build
  // on the writes before it; nothing it read may reach a client before
  // DB::wait_visible(DB::last_inserted() at the read) returns.
  bool unacknowledged = false;
  // Iterators only: false leaves value-log pointers unresolved (DBIterator::value() is the
  // encoded pointer, type() kValuePointer), so a walk that needs keys, or only the start
  // of each value (DBIterator::value_head), reads no value-log file.
  bool resolve_values = true;
};

struct DBStats {
  SequenceNumber last_sequence = 0;
  std::uint64_t memtable_bytes = 0;
  // The point indexes of the mutable and immutable memtables (memtable/point_index.h):
  // mappings of their own, outside the allocator's counts.
  std::uint64_t memtable_index_bytes = 0;
  // 2 MiB blocks of flushed memtables kept for the next ones (memtable/arena.h).
  std::uint64_t memtable_pool_bytes = 0;
  std::uint64_t memtable_entries = 0;
  std::uint64_t immutable_memtables = 0;
  std::uint64_t level0_files = 0;
  std::uint64_t table_files = 0;  // every level
  std::uint64_t table_bytes = 0;
  std::uint64_t flushes = 0;
  std::uint64_t flush_failures = 0;
  std::uint64_t flushed_bytes = 0;
  std::uint64_t write_stalls = 0;        // writes that waited for a flush
  std::uint64_t write_stall_micros = 0;  // time they waited
  std::uint64_t live_snapshots = 0;
  std::uint64_t open_tables = 0;  // table readers held open
  std::uint64_t block_cache_hits = 0;
  std::uint64_t block_cache_misses = 0;
  std::uint64_t block_cache_usage = 0;  // bytes
  // The WAL writer's counters.
  std::uint64_t wal_batches = 0;
  std::uint64_t wal_groups = 0;
  std::uint64_t wal_syncs = 0;
  std::uint64_t wal_bytes_written = 0;
  std::uint64_t wal_zeroed_bytes = 0;  // WalStats::zeroed_bytes: segments prepared, not log
  std::uint64_t wal_full_waits = 0;
  std::uint32_t wal_segments_in_use = 0;
  // What the last open found.
  std::uint64_t recovered_batches = 0;
  bool recovered_torn_tail = false;
  // WAL batches recovery left out from the first whose logged value a crash cut off.
  std::uint64_t recovered_cut_batches = 0;
  std::uint64_t recovered_dropped_records = 0;
  std::uint64_t recovered_skipped_damage = 0;
  // The value log, as the current version has it.
  std::uint64_t vlog_files = 0;
  std::uint64_t vlog_bytes = 0;          // file sizes
  std::uint64_t vlog_live_bytes = 0;     // of them, records some table still points to
  std::uint64_t vlog_garbage_bytes = 0;  // the rest (including headers and footers)
  std::uint64_t vlog_bytes_written = 0;  // by flushes and relocations since open
  std::uint64_t vlog_bytes_relocated = 0;   // of them, files written by relocation
  std::uint64_t vlog_values_relocated = 0;  // values relocation moved
  std::uint64_t vlog_files_deleted = 0;     // files deleted with nothing live in them
  std::uint64_t vlog_reads = 0;          // values get() read from disk
  std::uint64_t vlog_cache_hits = 0;     // values get() found in the block cache
  // What value-log writers did with values of a compressible size, since open
  // (engine/vlog/value_compression.h): those written (at write time) and those of flushes
  // that landed.
  std::uint64_t vlog_values_compressed = 0;
  std::uint64_t vlog_values_incompressible = 0;  // tried, stored raw
  std::uint64_t vlog_compression_skips = 0;      // stored raw without trying
  std::uint64_t obsolete_files_deleted = 0;  // at open and after compactions
  // Levels and compaction.
  std::array<LevelSummary, kNumLevels> levels{};  // tables and bytes per level
  std::uint64_t compactions = 0;                  // jobs that rewrote tables
  std::uint64_t trivial_moves = 0;                // tables moved down by an edit alone
  std::uint64_t compaction_failures = 0;
  std::uint64_t compaction_bytes_read = 0;
  std::uint64_t compaction_bytes_written = 0;
  // The compaction rate limiter (compaction-rate-limit): its rate now (0: unlimited) and
  // the bytes compaction and value-log GC charged it, paced or not.
  std::uint64_t compaction_rate_limit = 0;
  std::uint64_t compaction_bytes_charged = 0;
  std::uint64_t compaction_entries_dropped = 0;   // superseded, tombstones, filtered away
  std::uint64_t running_compactions = 0;
  std::uint64_t pending_compaction_bytes = 0;     // estimate (compaction/compaction_debt.h)
  std::uint64_t live_bytes_estimate = 0;          // estimate (compaction/compaction_debt.h)
  std::uint64_t user_bytes_written = 0;           // write batch bytes accepted
  // (flushed + value-log + compaction bytes written) / user bytes written; 0 before any
  // write. The WAL is not counted.
  double write_amplification = 0;
  // table bytes / live bytes estimate; 0 with no tables.
  double space_amplification = 0;
  // The write throttle (compaction/write_controller.h): episodes and time writers spent.
  std::uint64_t write_slowdowns = 0;
  std::uint64_t write_slowdown_micros = 0;
  std::uint64_t write_stops = 0;
  std::uint64_t write_stop_micros = 0;
};

}  // namespace cascade::engine
