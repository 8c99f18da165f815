// cascade-bench's command line. Flags are spelled as db_bench spells them (--name=value,
// booleans also as --name or --name=0/1) and mean what they mean there, so one set of
// flags drives both tools (scripts/bench-engine.sh):
//
//   --benchmarks=LIST     comma-separated, run in order: fillseq, fillrandom, overwrite,
//                         readrandom, readseq, seekrandom, readwhilewriting (fill* start
//                         from an empty db)
//   --db=DIR              the database directory (default ./bench-db)
//   --num=N               keys in the key space, and ops per thread (default 1000000)
//   --reads=N, --writes=N ops per thread for reads / writes; negative: --num
//   --threads=N           concurrent fibers, each doing the ops (db_bench: threads)
//   --key_size=N          fixed 16 (db_bench's default); other sizes are refused
//   --value_size=N        bytes per value (default 100)
//   --compression_ratio=R values shrink to about R under compression (default 0.5)
//   --seek_nexts=N        next() calls after each seek in seekrandom (default 0)
//   --sync                every write waits for its WAL record to be on disk
//   --memtable_size=N     bytes; db_bench calls it --write_buffer_size (both accepted)
//   --cache_size=N        block cache bytes; 0: every block read from disk (default 8 MiB,
//                         db_bench's default)
//   --min_blob_size=N     values of at least N bytes go to the value log at flush
//                         (default: the engine's, 512; 0 separates every value)
//   --separate_at_write=0|1
//                         1 (default, as the engine): such values go to the value log as
//                         they are written and the WAL logs pointers; 0: the WAL logs
//                         them whole and the flush separates them
//   --enable_blob_files   0 keeps every value in the tables (db_bench's flag; unlike
//                         db_bench the default is 1, as cascade's engine separates)
//   --use_existing_db     keep the directory; fill* benchmarks are refused then
//   --histogram           accepted for symmetry: percentiles are always printed
//   --seed=N              random seed (default 1); thread i uses seed + i
//   --benchmark_write_rate_limit=N
//                         readwhilewriting's writer: at most N bytes (key + value) a
//                         second; 0 (default) unpaced
//   --disable_auto_compactions
//                         open the engine with automatic compaction paused
//                         (CompactionOptions::disable_auto_compactions): flushes go on, L0
//                         grows, the write throttle is off (as RocksDB's L0 stall
//                         triggers are then)
//   --flush_on_close=0|1  close() flushes the memtables (1, as the server does), or leaves
//                         them to the next open's WAL replay (0, the engine's default)
//   --max_bytes_for_level_base=N, --target_file_size_base=N
//                         level 1's target size and the output tables' size, in bytes
//                         (db_bench's names; 0 keeps the engine's defaults, 256 MiB and
//                         32 MiB): smaller ones give a short run the levels of a large
//                         database
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "src/runtime/result.h"

namespace cascade::bench {

struct BenchFlags {
  std::vector<std::string> benchmarks = {"fillseq", "fillrandom", "overwrite",
                                         "readrandom", "readseq", "seekrandom"};
  std::string db = "./bench-db";
  std::int64_t num = 1000000;
  std::int64_t reads = -1;
  std::int64_t writes = -1;
  int threads = 1;
  std::size_t key_size = 16;
  std::size_t value_size = 100;
  double compression_ratio = 0.5;
  int seek_nexts = 0;
  bool sync = false;
  std::size_t memtable_size = 64u << 20;
  std::size_t cache_size = 8u << 20;
  std::size_t min_blob_size = 512;
  bool separate_at_write = true;
  bool enable_blob_files = true;
  bool use_existing_db = false;
  std::uint64_t seed = 1;
  std::uint64_t benchmark_write_rate_limit = 0;
  bool disable_auto_compactions = false;
  bool flush_on_close = false;
  std::uint64_t max_bytes_for_level_base = 0;
  std::uint64_t target_file_size_base = 0;

  std::int64_t reads_per_thread() const { return reads < 0 ? num : reads; }
  std::int64_t writes_per_thread() const { return writes < 0 ? num : writes; }
};

// Parses argv[1..]; InvalidArgument names the offending flag. "--help" yields NotFound
// with the usage text as its message.
Result<BenchFlags> parse_bench_flags(int argc, char** argv);

}  // namespace cascade::bench
