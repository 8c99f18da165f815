// The benchmark loops (workloads.h).
#include "tools/bench/workloads.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "src/runtime/scheduler.h"
#include "tools/bench/key_value_gen.h"

namespace cascade::bench {

namespace {

using runtime::Clock;

enum class KeyOrder { kSequential, kRandom };

// What one thread's loop needs; each thread has its own generators.
struct ThreadContext {
  engine::DB& db;
  const BenchFlags& flags;
  int index;
  Random rnd;
  OpStats stats;
  Status status;
  // readwhilewriting: reader fibers still reading; the writer stops when it reaches 0.
  int* readers_running = nullptr;
};

void write_loop(ThreadContext& t, KeyOrder order) {
  ValueGenerator values(t.flags.value_size, t.flags.compression_ratio, t.rnd.next());
  engine::WriteOptions options;
  options.sync = t.flags.sync;
  const std::int64_t ops = t.flags.writes_per_thread();
  const auto num = static_cast<std::uint64_t>(t.flags.num);
  std::string key;
  t.stats.reserve(ops);
  t.stats.start();
  for (std::int64_t i = 0; i < ops; ++i) {
    std::uint64_t k = order == KeyOrder::kSequential ? static_cast<std::uint64_t>(i) % num
                                                     : t.rnd.uniform(num);
    make_key(k, key);
    std::string_view value = values.next();
    auto begin = Clock::now();
    Status s = t.db.put(key, value, options);
    t.stats.record(Clock::now() - begin, key.size() + value.size());
    if (!s) {
      t.status = s;
      break;
    }
  }
  t.stats.finish();
}

void read_random_loop(ThreadContext& t) {
  const std::int64_t ops = t.flags.reads_per_thread();
  const auto num = static_cast<std::uint64_t>(t.flags.num);
  std::string key;
  t.stats.reserve(ops);
  t.stats.start();
  for (std::int64_t i = 0; i < ops; ++i) {
    make_key(t.rnd.uniform(num), key);
    auto begin = Clock::now();
    auto r = t.db.get(key);
    std::uint64_t bytes = (r && r->has_value()) ? key.size() + (*r)->size() : 0;
    t.stats.record(Clock::now() - begin, bytes);
    if (!r) {
      t.status = r.status();
      break;
    }
    if (r->has_value()) t.stats.add_found();
  }
  t.stats.finish();
}

// readwhilewriting's writer: random puts until every reader is done, paced to
// --benchmark_write_rate_limit bytes (key + value) per second when it is set. Pacing is
// per op: before each put the writer sleeps until the time at which the bytes written so
// far are due, so the rate holds without bursts the readers would feel.
void background_write_loop(ThreadContext& t) {
  ValueGenerator values(t.flags.value_size, t.flags.compression_ratio, t.rnd.next());
  engine::WriteOptions options;
  options.sync = t.flags.sync;
  const auto num = static_cast<std::uint64_t>(t.flags.num);
  const double rate = static_cast<double>(t.flags.benchmark_write_rate_limit);
  std::string key;
  std::uint64_t bytes = 0;
  // Enough for the readers' run at the paced rate; past it recording may grow the vector.
  t.stats.reserve(std::min<std::int64_t>(t.flags.reads_per_thread() * t.flags.threads, 1 << 24));
  t.stats.start();
  const auto start = Clock::now();
  while (*t.readers_running > 0) {
    if (rate > 0) {
      auto due = start + std::chrono::duration_cast<runtime::Duration>(
                             std::chrono::duration<double>(static_cast<double>(bytes) / rate));
      if (Clock::now() < due) {
        runtime::this_fiber::sleep_until(due);
        if (*t.readers_running == 0) break;
      }
    }
    make_key(t.rnd.uniform(num), key);
    std::string_view value = values.next();
    auto begin = Clock::now();
    Status s = t.db.put(key, value, options);
    t.stats.record(Clock::now() - begin, key.size() + value.size());
    bytes += key.size() + value.size();
    if (!s) {
      t.status = s;
      break;
    }
    // Unpaced, a put that never suspends would keep the thread from the readers forever.
    if (rate <= 0) runtime::this_fiber::yield();
  }
  t.stats.finish();
}

void read_seq_loop(ThreadContext& t) {
  const std::int64_t ops = t.flags.reads_per_thread();
  t.stats.reserve(ops);
  t.stats.start();
  auto begin = Clock::now();
  auto it = t.db.iterator();
  it->seek_to_first();
  for (std::int64_t i = 0; i < ops && it->valid(); ++i) {
    std::uint64_t bytes = it->key().size() + it->value().size();
    it->next();
    auto now = Clock::now();
    t.stats.record(now - begin, bytes);
    begin = now;
  }
  t.status = it->status();
  t.stats.finish();
}

void seek_random_loop(ThreadContext& t) {
  const std::int64_t ops = t.flags.reads_per_thread();
  const auto num = static_cast<std::uint64_t>(t.flags.num);
  std::string key;
  t.stats.reserve(ops);
  t.stats.start();
  for (std::int64_t i = 0; i < ops; ++i) {
    make_key(t.rnd.uniform(num), key);
    auto begin = Clock::now();
    auto it = t.db.iterator();
    it->seek(key);
    std::uint64_t bytes = 0;
    if (it->valid() && it->key() == key) t.stats.add_found();  // db_bench: an exact hit
    for (int n = 0; it->valid() && n < t.flags.seek_nexts; ++n) {
      bytes += it->key().size() + it->value().size();
      it->next();
    }
    t.stats.record(Clock::now() - begin, bytes);
    if (Status s = it->status(); !s) {
      t.status = s;
      break;
    }
  }
  t.stats.finish();
}

std::function<void(ThreadContext&)> loop_for(const std::string& name) {
  if (name == "fillseq") return [](ThreadContext& t) { write_loop(t, KeyOrder::kSequential); };
  if (name == "fillrandom" || name == "overwrite") {
    return [](ThreadContext& t) { write_loop(t, KeyOrder::kRandom); };
  }
  if (name == "readrandom" || name == "readwhilewriting") return read_random_loop;
  if (name == "readseq") return read_seq_loop;
  if (name == "seekrandom") return seek_random_loop;
  return nullptr;
}

}  // namespace

bool is_known_workload(const std::string& name) { return loop_for(name) != nullptr; }

bool is_write_workload(const std::string& name) {
  return name == "fillseq" || name == "fillrandom" || name == "overwrite";
}

bool needs_fresh_db(const std::string& name) { return name == "fillseq" || name == "fillrandom"; }

Result<WorkloadResult> run_workload(const std::string& name, engine::DB& db,
                                    const BenchFlags& flags, std::uint64_t seed_base) {
  auto loop = loop_for(name);
  if (!loop) return Status::invalid_argument("unknown benchmark '" + name + "'");
  std::vector<std::unique_ptr<ThreadContext>> threads;
  for (int i = 0; i < flags.threads; ++i) {
    threads.push_back(std::unique_ptr<ThreadContext>(
        new ThreadContext{db, flags, i, Random(seed_base + static_cast<std::uint64_t>(i)), {}, {}}));
  }
  std::vector<runtime::FiberHandle> fibers;
  runtime::SpawnOptions spawn;
  spawn.stack = runtime::StackSize::kLarge;  // table reads decompress
  spawn.name = "bench-thread";
  // readwhilewriting: one more fiber, the writer, seeded after the readers.
  int readers_running = flags.threads;
  std::unique_ptr<ThreadContext> writer;
  if (name == "readwhilewriting") {
    writer.reset(new ThreadContext{db, flags, flags.threads,
                                   Random(seed_base + static_cast<std::uint64_t>(flags.threads)),
                                   {}, {}, &readers_running});
    spawn.name = "bench-writer";
    fibers.push_back(runtime::Scheduler::current()->spawn(
        [&writer] { background_write_loop(*writer); }, spawn));
    spawn.name = "bench-thread";
  }
  for (auto& t : threads) {
    fibers.push_back(runtime::Scheduler::current()->spawn(
        [&loop, &t, &readers_running] {
          loop(*t);
          --readers_running;
        },
        spawn));
  }
  for (auto& f : fibers) f.join();

  WorkloadResult result;
  for (auto& t : threads) {
    if (!t->status) return t->status;
    result.stats.merge(t->stats);
  }
  if (is_write_workload(name)) {
    result.user_bytes_written = result.stats.ops() * (kKeySize + flags.value_size);
  }
  if (writer) {
    if (!writer->status) return writer->status;
    result.writer_stats = std::move(writer->stats);
    result.user_bytes_written = result.writer_stats->ops() * (kKeySize + flags.value_size);
  }
  if (name == "readrandom" || name == "seekrandom" || name == "readwhilewriting") {
    result.extra = "(" + std::to_string(result.stats.found()) + " of " +
                   std::to_string(result.stats.ops()) + " found)";
  }
  return result;
}

}  // namespace cascade::bench
