// INFO's Memory, Persistence, Keyspace and Storage sections (info_sections.h).
#include "src/commands/info_sections.h"

#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>

namespace cascade::commands {
namespace {

std::int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Bytes the allocator handed out and not yet got back (glibc: arenas plus mmapped chunks).
std::int64_t allocated_bytes() {
  struct mallinfo2 m = ::mallinfo2();
  return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
}

// The highest allocated_bytes() any INFO has seen (Redis samples its peak in cron).
std::int64_t peak_of(std::int64_t used) {
  static std::atomic<std::int64_t> peak{0};
  std::int64_t seen = peak.load(std::memory_order_relaxed);
  while (used > seen && !peak.compare_exchange_weak(seen, used, std::memory_order_relaxed)) {
  }
  return std::max(seen, used);
}

// Redis's bytesToHuman: "1.23M".
std::string human(std::int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes < 1024) return fmt::format("{}B", bytes);
  if (bytes < (1LL << 20)) return fmt::format("{:.2f}K", b / 1024);
  if (bytes < (1LL << 30)) return fmt::format("{:.2f}M", b / (1 << 20));
  if (bytes < (1LL << 40)) return fmt::format("{:.2f}G", b / (1LL << 30));
  return fmt::format("{:.2f}T", b / (1LL << 40));
}

double ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

}  // namespace

void add_engine_stats(engine::DBStats& t, const engine::DBStats& s) {
  t.last_sequence += s.last_sequence;
  t.memtable_bytes += s.memtable_bytes;
  t.memtable_index_bytes += s.memtable_index_bytes;
  t.memtable_pool_bytes += s.memtable_pool_bytes;
  t.immutable_memtables += s.immutable_memtables;
  t.level0_files += s.level0_files;
  t.table_files += s.table_files;
  t.table_bytes += s.table_bytes;
  t.flushes += s.flushes;
  t.flushed_bytes += s.flushed_bytes;
  t.write_stalls += s.write_stalls;
  t.write_stall_micros += s.write_stall_micros;
  t.block_cache_hits += s.block_cache_hits;
  t.block_cache_misses += s.block_cache_misses;
  t.block_cache_usage += s.block_cache_usage;
  t.vlog_reads += s.vlog_reads;
  t.vlog_cache_hits += s.vlog_cache_hits;
  t.vlog_values_compressed += s.vlog_values_compressed;
  t.vlog_values_incompressible += s.vlog_values_incompressible;
  t.vlog_compression_skips += s.vlog_compression_skips;
  t.recovered_batches += s.recovered_batches;
  // Every shard gets the same limit (CONFIG SET applies it to all); each has its own
  // limiter, so the server's compaction IO may reach shards x the limit.
  t.compaction_rate_limit = std::max(t.compaction_rate_limit, s.compaction_rate_limit);
  t.compaction_bytes_charged += s.compaction_bytes_charged;
  t.wal_syncs += s.wal_syncs;
  t.wal_bytes_written += s.wal_bytes_written;
  t.vlog_files += s.vlog_files;
  t.vlog_bytes += s.vlog_bytes;
  t.vlog_live_bytes += s.vlog_live_bytes;
  t.vlog_garbage_bytes += s.vlog_garbage_bytes;
  t.compactions += s.compactions;
  t.compaction_bytes_read += s.compaction_bytes_read;
  t.compaction_bytes_written += s.compaction_bytes_written;
  t.user_bytes_written += s.user_bytes_written;
  t.write_slowdowns += s.write_slowdowns;
  t.write_slowdown_micros += s.write_slowdown_micros;
  t.write_stops += s.write_stops;
  t.write_stop_micros += s.write_stop_micros;
  t.pending_compaction_bytes += s.pending_compaction_bytes;
}

void memory_section(const InfoTotals& totals, std::string& out) {
  // The memtables' point indexes are mappings (point_index.h), which mallinfo does not see.
  const std::int64_t used =
      allocated_bytes() + static_cast<std::int64_t>(totals.engine.memtable_index_bytes);
  const std::int64_t peak = peak_of(used);
  const std::int64_t rss = rss_bytes();
  const std::int64_t system = ::sysconf(_SC_PHYS_PAGES) * ::sysconf(_SC_PAGESIZE);
  // The engines' share of `used`: memtables and cached blocks.
  const auto dataset = static_cast<std::int64_t>(totals.engine.memtable_bytes +
                                                 totals.engine.block_cache_usage);
  out += fmt::format(
      "# Memory\r\nused_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\n"
      "used_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\n"
      "used_memory_peak_perc:{:.2f}%\r\nused_memory_dataset:{}\r\n"
      "used_memory_dataset_perc:{:.2f}%\r\nallocator_allocated:{}\r\n"
      "allocator_resident:{}\r\ntotal_system_memory:{}\r\ntotal_system_memory_human:{}\r\n"
      "maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n"
      "mem_fragmentation_ratio:{:.2f}\r\nmem_fragmentation_bytes:{}\r\n"
      "mem_allocator:libc\r\n",
      used, human(used), rss, human(rss), peak, human(peak), 100 * ratio(used, peak), dataset,
      100 * ratio(dataset, used), used, rss, system, human(system), ratio(rss, used),
      rss - used);
}

void persistence_section(server::CommandContext& ctx, const InfoTotals& totals,
                         std::string& out) {
  const server::SaveReport save = ctx.server.saves().report();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const bool in_progress = save.running != server::SaveKind::kNone;
  const server::ServerConfig& config = ctx.shard.config();
  out += fmt::format(
      "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\n"
      "rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n"
      "rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\n"
      "rdb_last_cow_size:0\r\naof_enabled:{}\r\naof_rewrite_in_progress:0\r\n"
      "aof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\n"
      "aof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n"
      "last_checkpoint_dir:{}\r\n",
      totals.unsaved_writes, in_progress ? 1 : 0, save.last_save_time,
      save.last_ok ? "ok" : "err", save.last_duration,
      in_progress ? now - save.running_since : -1, save.saves, config.appendonly ? 1 : 0,
      save.last_dir);
}

void keyspace_section(const InfoTotals& totals, std::string& out) {
  out += "# Keyspace\r\n";
  if (totals.keys_failed) {
    out += "keyspace_error:storage error, see the server log\r\n";
    return;
  }
  for (const auto& [db, count] : totals.keys) {
    const std::uint64_t avg_ttl = count.expires == 0 ? 0 : count.ttl_sum_ms / count.expires;
    out += fmt::format("db{}:keys={},expires={},avg_ttl={}\r\n", db, count.keys, count.expires,
                       avg_ttl);
  }
}

// The engines' statistics summed over shards (engine/db_options.h, DBStats).
void storage_section(const InfoTotals& totals, std::string& out) {
  const engine::DBStats& e = totals.engine;
  // Table bytes written (flushes and compactions) per byte of user writes; 0 before any.
  const double write_amplification =
      ratio(static_cast<double>(e.flushed_bytes + e.compaction_bytes_written),
            static_cast<double>(e.user_bytes_written));
  out += fmt::format(
      "# Storage\r\nstorage_shards:{}\r\nstorage_sst_files:{}\r\nstorage_sst_bytes:{}\r\n"
      "storage_l0_files:{}\r\nstorage_vlog_files:{}\r\nstorage_vlog_live_bytes:{}\r\n"
      "storage_vlog_garbage_bytes:{}\r\nstorage_memtable_bytes:{}\r\n"
      "storage_immutable_memtables:{}\r\nstorage_flushes:{}\r\nstorage_flushed_bytes:{}\r\n"
      "storage_compactions:{}\r\nstorage_write_amplification:{:.2f}\r\n"
      "storage_block_cache_bytes:{}\r\nstorage_block_cache_hit_ratio:{:.4f}\r\n"
      "storage_write_stalls:{}\r\nstorage_write_stall_micros:{}\r\nstorage_wal_syncs:{}\r\n"
      "storage_wal_bytes_written:{}\r\nstorage_compaction_bytes_read:{}\r\n"
      "storage_compaction_bytes_written:{}\r\nstorage_pending_compaction_bytes:{}\r\n"
      "storage_write_slowdowns:{}\r\nstorage_write_slowdown_micros:{}\r\n"
      "storage_write_stops:{}\r\nstorage_write_stop_micros:{}\r\n"
      "storage_compaction_rate_limit:{}\r\nstorage_compaction_bytes_charged:{}\r\n"
      "storage_block_cache_hits:{}\r\nstorage_block_cache_misses:{}\r\n"
      "storage_vlog_reads:{}\r\nstorage_vlog_cache_hits:{}\r\n"
      "storage_wal_recovered_batches:{}\r\nstorage_memtable_pool_bytes:{}\r\n"
      "storage_vlog_values_compressed:{}\r\nstorage_vlog_values_incompressible:{}\r\n"
      "storage_vlog_compression_skips:{}\r\n",
      totals.engines, e.table_files, e.table_bytes, e.level0_files, e.vlog_files,
      e.vlog_live_bytes, e.vlog_garbage_bytes, e.memtable_bytes, e.immutable_memtables,
      e.flushes, e.flushed_bytes, e.compactions, write_amplification, e.block_cache_usage,
      ratio(static_cast<double>(e.block_cache_hits),
            static_cast<double>(e.block_cache_hits + e.block_cache_misses)),
      e.write_stalls, e.write_stall_micros, e.wal_syncs, e.wal_bytes_written,
      e.compaction_bytes_read, e.compaction_bytes_written, e.pending_compaction_bytes,
      e.write_slowdowns, e.write_slowdown_micros, e.write_stops, e.write_stop_micros,
      e.compaction_rate_limit, e.compaction_bytes_charged, e.block_cache_hits,
      e.block_cache_misses, e.vlog_reads, e.vlog_cache_hits, e.recovered_batches,
      e.memtable_pool_bytes, e.vlog_values_compressed, e.vlog_values_incompressible,
      e.vlog_compression_skips);
}

}  // namespace cascade::commands
