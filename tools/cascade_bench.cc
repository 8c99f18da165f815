// cascade-bench: db_bench for the cascade engine. Same benchmark names, flags and report
// lines as RocksDB's db_bench (tools/bench/bench_flags.h, workloads.h, op_stats.h), so
// scripts/bench-engine.sh runs both on the same workloads and compares them line by line.
//
//   cascade-bench --num=1000000 --benchmarks=fillseq,fillrandom,overwrite,readrandom
//   cascade-bench --num=1000 --benchmarks=fillseq,readrandom      (a smoke test: < 1 s)
//   cascade-bench --use_existing_db --threads=4 --benchmark_write_rate_limit=2000000
//                 --benchmarks=readwhilewriting [--disable_auto_compactions]
//
// One engine on one shard: a Scheduler and a Reactor driven on the main thread, as a
// server shard drives them; --threads are fibers of that shard, so the engine's flush
// fiber shares the thread with them. A benchmark that needs a fresh database (fillseq,
// fillrandom) closes the engine, deletes --db and opens a new one.
//
// After each benchmark: what the engine did meanwhile (flushes, level-0 files, write
// stalls, WAL groups and syncs). At the end, over the whole run:
//   write amplification  (WAL bytes written + table bytes written) / user bytes written
//                        (key + value of every put), summed over every engine opened
//   space                bytes the directory holds on disk (allocated blocks, which
//                        include the preallocated WAL ring) / live user data (live keys,
//                        counted by a scan, x (key + value size))
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/db.h"
#include "src/runtime/reactor.h"
#include "src/runtime/scheduler.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/key_value_gen.h"
#include "tools/bench/workloads.h"

namespace {

using namespace cascade;
using namespace cascade::bench;
using cascade::engine::DB;
using cascade::engine::DBStats;

struct DiskUsage {
  std::uint64_t allocated = 0;  // st_blocks * 512
  std::uint64_t apparent = 0;   // st_size
  std::uint64_t tables = 0;     // apparent size of *.sst
  std::uint64_t wal = 0;        // apparent size of wal-*
  std::uint64_t vlog = 0;       // apparent size of *.vlog
};

DiskUsage disk_usage(const std::string& dir) {
  DiskUsage u;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st;
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    u.allocated += static_cast<std::uint64_t>(st.st_blocks) * 512;
    u.apparent += static_cast<std::uint64_t>(st.st_size);
    std::string name = entry.path().filename().string();
    if (name.ends_with(".sst")) u.tables += static_cast<std::uint64_t>(st.st_size);
    if (name.starts_with("wal-")) u.wal += static_cast<std::uint64_t>(st.st_size);
    if (name.ends_with(".vlog")) u.vlog += static_cast<std::uint64_t>(st.st_size);
  }
  return u;
}

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

engine::DBOptions db_options(const BenchFlags& flags) {
  engine::DBOptions o;
  o.memtable_size = flags.memtable_size;
  o.block_cache_size = flags.cache_size;
  o.min_blob_size = flags.enable_blob_files ? flags.min_blob_size : engine::kNeverSeparate;
  o.separate_at_write = flags.separate_at_write;
  // Unsynced writes really are unsynced (as db_bench's default); --sync asks per write.
  o.wal.sync_policy = engine::WalSyncPolicy::kNo;
  o.compaction.disable_auto_compactions = flags.disable_auto_compactions;
  o.flush_on_close = flags.flush_on_close;
  if (flags.max_bytes_for_level_base > 0) {
    o.compaction.base_level_size = flags.max_bytes_for_level_base;
  }
  if (flags.target_file_size_base > 0) o.compaction.target_file_size = flags.target_file_size_base;
  return o;
}

class Bench {
 public:
  explicit Bench(const BenchFlags& flags) : flags_(flags) {}

  // The whole run; on a fiber.
  Status run() {
    print_header();
    for (const std::string& name : flags_.benchmarks) {
      if (!is_known_workload(name)) return Status::invalid_argument("unknown benchmark " + name);
    }
    for (const std::string& name : flags_.benchmarks) {
      if (Status s = run_one(name); !s) return s;
    }
    if (!db_) return Status::ok();
    print_summary();
    return close_db();
  }

 private:
  Status run_one(const std::string& name) {
    if (needs_fresh_db(name)) {
      if (flags_.use_existing_db) {
        return Status::invalid_argument(name + " needs a fresh database: drop --use_existing_db");
      }
      if (Status s = close_db(); !s) return s;
      std::error_code ec;
      std::filesystem::remove_all(flags_.db, ec);
      if (ec) return Status::io_error("remove " + flags_.db + ": " + ec.message());
    }
    if (!db_) {
      if (Status s = open_db(); !s) return s;
    }
    DBStats before = db_->stats();
    auto result = run_workload(name, *db_, flags_, flags_.seed + threads_started_);
    threads_started_ += static_cast<std::uint64_t>(flags_.threads);
    if (!result) return result.status();
    std::fputs(result->stats.report(name, result->extra).c_str(), stdout);
    if (result->writer_stats) {
      std::string label = "Writes (1 fiber, ";
      label += flags_.benchmark_write_rate_limit > 0
                   ? "at most " + std::to_string(flags_.benchmark_write_rate_limit) + " B/s)"
                   : "unpaced)";
      std::fputs(result->writer_stats->side_report(label).c_str(), stdout);
    }
    print_engine_delta(before, db_->stats());
    user_bytes_ += result->user_bytes_written;
    if (name == "readseq" && flags_.threads == 1 && result->stats.ops() < uint64_t(flags_.reads_per_thread())) {
      live_entries_ = result->stats.ops();  // the scan reached the end
    } else if (result->user_bytes_written > 0) {
      live_entries_.reset();
    }
    std::fflush(stdout);
    return Status::ok();
  }

  Status open_db() {
    std::error_code ec;
    std::filesystem::create_directories(flags_.db, ec);
    auto db = DB::open(runtime::real_file_system(), flags_.db, db_options(flags_));
    if (!db) return db.status();
    db_ = std::move(*db);
    return Status::ok();
  }

  // Adds the closing engine's write counters to the run's totals.
  Status close_db() {
    if (!db_) return Status::ok();
    DBStats s = db_->stats();
    wal_bytes_ += s.wal_bytes_written;
    table_bytes_written_ += s.flushed_bytes + s.compaction_bytes_written;
    vlog_bytes_written_ += s.vlog_bytes_written;
    Status status = db_->close();
    db_.reset();
    return status;
  }

  void print_header() const {
    std::printf("cascade-bench: cascade engine %s\n", CASCADE_VERSION);
    std::printf("Keys:       %zu bytes each\n", kKeySize);
    std::printf("Values:     %zu bytes each (%zu bytes after compression)\n", flags_.value_size,
                static_cast<std::size_t>(flags_.value_size * flags_.compression_ratio + 0.5));
    std::printf("Entries:    %ld\n", static_cast<long>(flags_.num));
    std::printf("Threads:    %d fibers on one shard (the flush fiber shares its thread)\n",
                flags_.threads);
    std::printf("Sync:       %s\n", flags_.sync ? "every write" : "none (WAL sync policy no)");
    engine::DBOptions o = db_options(flags_);
    std::printf("Memtable:   %.1f MiB (+ up to %zu immutable), %s level %d per block, "
                "bloom %.0f bits/key\n",
                mib(o.memtable_size), o.max_immutable_memtables,
                o.compression.type == engine::CompressionType::kZstd ? "zstd" : "no compression",
                o.compression.zstd_level, o.bloom_bits_per_key);
    std::printf("Cache:      %.1f MiB block cache; blocks it misses are O_DIRECT reads\n",
                mib(o.block_cache_size));
    if (o.min_blob_size == engine::kNeverSeparate) {
      std::printf("Value log:  off (every value in the tables)\n");
    } else {
      std::printf("Value log:  values >= %zu bytes, %.0f MiB files, written %s\n",
                  o.min_blob_size, mib(o.vlog_file_size),
                  o.separate_at_write ? "as they are written (the WAL logs pointers)"
                                      : "at flush (the WAL logs them whole)");
    }
    std::printf("Compaction: leveled, L0 at %zu tables, L1 %.0f MiB x %.0f per level, "
                "%.0f MiB tables, %zu background fiber(s) sharing the shard's thread\n",
                o.compaction.l0_compaction_trigger, mib(o.compaction.base_level_size),
                o.compaction.level_size_ratio, mib(o.compaction.target_file_size),
                o.compaction.max_background_compactions);
    if (o.compaction.disable_auto_compactions) {
      std::printf("            automatic compaction disabled (flushes only; no write "
                  "throttle)\n");
    }
    std::printf("------------------------------------------------\n");
  }

  static void print_engine_delta(const DBStats& a, const DBStats& b) {
    std::uint64_t batches = b.wal_batches - a.wal_batches;
    std::uint64_t groups = b.wal_groups - a.wal_groups;
    std::printf("Engine: %lu flushes, %lu compactions (%lu moves), %lu level-0 files, "
                "%lu write stalls (%.1f ms), slowdowns %.1f ms, stops %.1f ms, "
                "%lu WAL syncs, %.1f batches per WAL group\n",
                static_cast<unsigned long>(b.flushes - a.flushes),
                static_cast<unsigned long>(b.compactions - a.compactions),
                static_cast<unsigned long>(b.trivial_moves - a.trivial_moves),
                static_cast<unsigned long>(b.level0_files),
                static_cast<unsigned long>(b.write_stalls - a.write_stalls),
                (b.write_stall_micros - a.write_stall_micros) / 1000.0,
                (b.write_slowdown_micros - a.write_slowdown_micros) / 1000.0,
                (b.write_stop_micros - a.write_stop_micros) / 1000.0,
                static_cast<unsigned long>(b.wal_syncs - a.wal_syncs),
                groups > 0 ? static_cast<double>(batches) / groups : 0.0);
    // Whether compaction ran meanwhile, and how far behind it is (readwhilewriting with
    // and without --disable_auto_compactions: scripts/bench-mixed.sh).
    std::printf("Compaction: %.1f MiB read, %.1f MiB written; level 0 %lu -> %lu tables; "
                "%.1f MiB pending compaction bytes at the end\n",
                mib(b.compaction_bytes_read - a.compaction_bytes_read),
                mib(b.compaction_bytes_written - a.compaction_bytes_written),
                static_cast<unsigned long>(a.levels[0].files),
                static_cast<unsigned long>(b.levels[0].files), mib(b.pending_compaction_bytes));
  }

  // Live entries from the last full readseq, else a scan now (not timed).
  std::uint64_t live_entries() {
    if (live_entries_) return *live_entries_;
    std::uint64_t n = 0;
    auto it = db_->iterator();
    for (it->seek_to_first(); it->valid(); it->next()) ++n;
    return n;
  }

  void print_summary() {
    DBStats s = db_->stats();
    const std::uint64_t wal = wal_bytes_ + s.wal_bytes_written;
    const std::uint64_t tables =
        table_bytes_written_ + s.flushed_bytes + s.compaction_bytes_written;
    const std::uint64_t vlog = vlog_bytes_written_ + s.vlog_bytes_written;
    std::printf("------------------------------------------------\n");
    if (user_bytes_ > 0) {
      std::printf("Write amplification: %.3f  (WAL %.1f MiB + tables %.1f MiB + value log "
                  "%.1f MiB written) / user %.1f MiB; %.1f MiB still only in memtables\n",
                  static_cast<double>(wal + tables + vlog) / static_cast<double>(user_bytes_),
                  mib(wal), mib(tables), mib(vlog), mib(user_bytes_), mib(s.memtable_bytes));
    }
    const std::uint64_t live = live_entries() * (kKeySize + flags_.value_size);
    DiskUsage u = disk_usage(flags_.db);
    std::printf("Space: %.3f  (%.1f MiB on disk: tables %.1f MiB, value log %.1f MiB, WAL ring "
                "%.1f MiB) / live user data %.1f MiB; tables alone %.3f\n",
                live > 0 ? static_cast<double>(u.allocated) / live : 0.0, mib(u.allocated),
                mib(u.tables), mib(u.vlog), mib(u.wal), mib(live),
                live > 0 ? static_cast<double>(u.tables) / live : 0.0);
    std::printf("Levels:");
    for (int level = 0; level < engine::kNumLevels; ++level) {
      if (s.levels[level].files == 0) continue;
      std::printf(" L%d %zu tables %.1f MiB;", level, s.levels[level].files,
                  mib(s.levels[level].bytes));
    }
    std::printf(" %.1f MiB in all\n", mib(s.table_bytes));
    std::printf("Value log: %lu files, %.1f MiB (%.1f MiB garbage); GC relocated %lu values "
                "(%.1f MiB written), deleted %lu files\n",
                static_cast<unsigned long>(s.vlog_files), mib(s.vlog_bytes),
                mib(s.vlog_garbage_bytes), static_cast<unsigned long>(s.vlog_values_relocated),
                mib(s.vlog_bytes_relocated), static_cast<unsigned long>(s.vlog_files_deleted));
  }

  const BenchFlags& flags_;
  std::unique_ptr<DB> db_;
  std::uint64_t user_bytes_ = 0;
  std::uint64_t wal_bytes_ = 0;             // of engines already closed
  std::uint64_t table_bytes_written_ = 0;   // of engines already closed
  std::uint64_t vlog_bytes_written_ = 0;    // of engines already closed
  std::optional<std::uint64_t> live_entries_;
  std::uint64_t threads_started_ = 0;  // seeds: see run_workload
};

}  // namespace

int main(int argc, char** argv) {
  auto flags = parse_bench_flags(argc, argv);
  if (!flags) {
    std::fputs(flags.error().message().c_str(), stderr);
    return flags.error().is_not_found() ? 0 : 2;
  }
  runtime::Scheduler sched;
  runtime::Reactor reactor;
  if (Status s = reactor.init(); !s) {
    std::fprintf(stderr, "reactor: %s\n", s.to_string().c_str());
    return 1;
  }
  Bench bench(*flags);
  Status status;
  runtime::SpawnOptions spawn;
  spawn.stack = runtime::StackSize::kLarge;
  spawn.name = "cascade-bench";
  sched.spawn([&] { status = bench.run(); }, spawn);
  while (sched.live_fibers() > 0) {
    sched.run_round();
    if (sched.live_fibers() == 0) break;
    reactor.poll(!sched.has_ready(), sched.next_deadline());
  }
  if (!status) {
    std::fprintf(stderr, "cascade-bench: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
