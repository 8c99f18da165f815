// bench-engine-wal: WAL append throughput with group commit, on the real disk.
//
//   bench-engine-wal [DIR] [SECONDS] [VALUE_BYTES]
//
// For sync policy always (every group fdatasync'ed) and no (never), with 1, 8 and 64 fibers
// each appending one-record batches back to back for SECONDS (default 2): appends/s,
// payload MB/s, syncs and groups per batch, and the space cost of page padding
// (bytes written / payload bytes). DIR (default ./bench-engine-wal.dir, so under the build
// directory when run from there) holds a fresh 4 x 64 MiB WAL per run. The engine's flush
// is simulated by mark_flushed after every append, so the ring never fills.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/wal/wal_reader.h"
#include "engine/wal/wal_segment.h"
#include "engine/wal/wal_writer.h"
#include "src/runtime/file_system.h"
#include "src/runtime/reactor.h"
#include "src/runtime/scheduler.h"

using namespace cascade;
using namespace cascade::engine;
using cascade::runtime::Clock;
using cascade::runtime::Reactor;
using cascade::runtime::Scheduler;

namespace {

void drive(Scheduler& sched, Reactor& reactor) {
  while (sched.live_fibers() > 0) {
    sched.run_round();
    if (sched.live_fibers() == 0) break;
    reactor.poll(!sched.has_ready(), sched.next_deadline());
  }
}

void run(Scheduler& sched, Reactor& reactor, const std::string& dir, WalSyncPolicy policy,
         int fibers, double seconds, std::size_t value_bytes) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  WalOptions options;  // the defaults: 4 x 64 MiB
  options.sync_policy = policy;
  std::unique_ptr<WalWriter> wal;
  sched.spawn([&] {
    auto segments = WalSegments::open(runtime::real_file_system(), dir, options.geometry);
    if (!segments) return (void)std::fprintf(stderr, "%s\n", segments.error().to_string().c_str());
    auto rec = recover_wal(*segments, {}, [](const WriteBatch&, const WalPosition&) { return Status::ok(); });
    if (!rec) return (void)std::fprintf(stderr, "%s\n", rec.error().to_string().c_str());
    auto w = WalWriter::open(std::move(*segments), options, *rec);
    if (w) wal = std::move(*w);
  });
  drive(sched, reactor);
  if (!wal) std::exit(1);

  SequenceNumber next = 1;
  bool stop = false;
  std::string value(value_bytes, 'v');
  auto start = Clock::now();
  sched.add_timer(start + std::chrono::duration_cast<runtime::Duration>(
                              std::chrono::duration<double>(seconds)),
                  [&] { stop = true; });
  for (int f = 0; f < fibers; ++f) {
    sched.spawn([&] {
      WriteBatch batch;
      while (!stop) {
        batch.clear();
        batch.put("key:" + std::to_string(next), value);
        batch.set_sequence(next++);
        auto p = wal->append(batch, false);
        if (!p) {
          std::fprintf(stderr, "append: %s\n", p.error().to_string().c_str());
          std::exit(1);
        }
        wal->mark_flushed(batch.sequence());
      }
    });
  }
  drive(sched, reactor);
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  sched.spawn([&] { (void)wal->close(); });
  drive(sched, reactor);
  const WalStats& st = wal->stats();
  double batches = static_cast<double>(st.batches);
  std::printf("%-6s %3d fibers  %9.0f appends/s  %7.2f MB/s payload  %6.3f syncs/batch  "
              "%6.1f batches/group  written/payload %5.2f\n",
              policy == WalSyncPolicy::kAlways ? "always" : "no", fibers, batches / elapsed,
              st.payload_bytes / elapsed / 1e6, st.syncs / batches, batches / st.groups,
              static_cast<double>(st.bytes_written) / st.payload_bytes);
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "bench-engine-wal.dir";
  double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  std::size_t value_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100;
  Scheduler sched;
  Reactor reactor;
  if (Status s = reactor.init(); !s) {
    std::fprintf(stderr, "reactor: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("WAL 4 x 64 MiB in %s, one-record batches with %zu-byte values, %.1f s per run\n",
              dir.c_str(), value_bytes, seconds);
  for (WalSyncPolicy policy : {WalSyncPolicy::kAlways, WalSyncPolicy::kNo}) {
    for (int fibers : {1, 8, 64}) run(sched, reactor, dir, policy, fibers, seconds, value_bytes);
  }
  return 0;
}
