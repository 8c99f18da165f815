// The benchmarks cascade-bench runs, with db_bench's names and meanings. Each runs its
// per-thread loop on flags.threads fibers of the calling fiber's scheduler at once and
// returns their merged OpStats; every op is timed on its own.
//
//   fillseq     keys 0, 1, ... in order (each thread writes the same sequence), --writes ops
//   fillrandom  uniformly random keys of [0, num), with repeats, --writes ops
//   overwrite   fillrandom over the existing data
//   readrandom  get of uniformly random keys, --reads ops; "(found of ops found)"
//   readwhilewriting
//               readrandom on --threads fibers while one more fiber does random puts
//               until they finish, paced to --benchmark_write_rate_limit bytes/s (0:
//               as fast as it can, yielding between puts); the stats are the reads',
//               the writer's come apart (WorkloadResult::writer_stats)
//   readseq     one iterator from the first key, next() --reads times or to the end
//   seekrandom  a new iterator, seek to a random key, then --seek_nexts next(); --reads ops;
//               found counts exact hits, bytes the --seek_nexts entries stepped over
// Which ones start from an empty database is the caller's business (needs_fresh_db).
//
// An engine error stops the benchmark: the first one is returned.
#pragma once

#include <optional>
#include <string>

#include "engine/db.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/op_stats.h"

namespace cascade::bench {

struct WorkloadResult {
  OpStats stats;                       // the benchmark's threads (readwhilewriting: readers)
  std::optional<OpStats> writer_stats;  // readwhilewriting's writer
  std::string extra;          // e.g. "(632000 of 1000000 found)"
  std::uint64_t user_bytes_written = 0;  // key + value of every write
};

bool is_known_workload(const std::string& name);
bool is_write_workload(const std::string& name);
bool needs_fresh_db(const std::string& name);

// Must run on a fiber of a scheduler with a reactor (the engine's calling rules). Thread i
// draws its keys from seed_base + i: as in db_bench, the caller advances seed_base by the
// thread count from benchmark to benchmark, so a read does not replay the fill's keys.
Result<WorkloadResult> run_workload(const std::string& name, engine::DB& db,
                                    const BenchFlags& flags, std::uint64_t seed_base);

}  // namespace cascade::bench
