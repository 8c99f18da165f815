// bench-runtime-io: what the reactor costs next to fio on the same disk.
//
//   bench-runtime-io [--dir DIR] [--size-mib N] [--seconds S] [--depth D] [--idle-seconds S]
//                    [--submit-batch N] [--no-fio] [--keep]
//
// 1. Creates DIR/randread.dat (default ./bench-data, 1 GiB of incompressible bytes written
//    with O_DIRECT through the reactor), or reuses it if it already has the right size.
// 2. 4 KiB O_DIRECT random reads through File::read_at from D fibers (queue depth D,
//    default 32) on one Scheduler + Reactor, for S seconds (default 10): IOPS, and
//    io_uring_enter calls per read (how well submissions batch).
// 3. If fio is on PATH, the same workload with fio (--ioengine=io_uring --direct=1
//    --rw=randread --bs=4k --iodepth=D) and the ratio of the two.
// 4. Idle cost: the shard loop (run_round + poll(wait)) with nothing to do, for 5 s; the
//    thread's CPU time from getrusage should be ~0.
//
// A program, not a test: it prints figures and asserts nothing about time.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/file.h"
#include "src/runtime/reactor.h"
#include "src/runtime/scheduler.h"

using namespace cascade::runtime;
using cascade::Status;

namespace {

struct BenchOptions {
  std::string dir = "./bench-data";
  std::uint64_t size_mib = 1024;
  int seconds = 10;
  int depth = 32;
  int idle_seconds = 5;
  int submit_batch = -1;  // -1: the reactor's default
  bool fio = true;
  bool keep = false;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench-runtime-io: %s\n", what.c_str());
  std::exit(1);
}

BenchOptions parse_args(int argc, char** argv) {
  BenchOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--dir") o.dir = value();
    else if (a == "--size-mib") o.size_mib = std::stoull(value());
    else if (a == "--seconds") o.seconds = std::stoi(value());
    else if (a == "--depth") o.depth = std::stoi(value());
    else if (a == "--idle-seconds") o.idle_seconds = std::stoi(value());
    else if (a == "--submit-batch") o.submit_batch = std::stoi(value());
    else if (a == "--no-fio") o.fio = false;
    else if (a == "--keep") o.keep = true;
    else die("unknown argument " + a + " (see the comment at the top of runtime_io_bench.cc)");
  }
  return o;
}

// The shard loop, until every fiber finished.
void drive(Scheduler& sched, Reactor& reactor) {
  while (sched.live_fibers() > 0) {
    sched.run_round();
    if (sched.live_fibers() == 0) break;
    reactor.poll(!sched.has_ready(), sched.next_deadline());
  }
}

std::uint64_t xorshift(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

double thread_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  auto secs = [](timeval tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

void check(const Status& s) {
  if (!s.is_ok()) die(s.to_string());
}

// Fills the file with O_DIRECT 1 MiB writes from 8 fibers (a sparse file would be read
// from the zero page, not the disk).
void create_data_file(Scheduler& sched, Reactor& reactor, const std::string& path,
                      std::uint64_t bytes) {
  OpenOptions o = OpenOptions::read_write_create();
  o.direct = true;
  o.truncate = true;
  auto file = File::open(path, o);
  if (!file) die(file.error().to_string());
  constexpr std::uint64_t kChunk = 1 << 20;
  std::uint64_t next = 0;
  for (int w = 0; w < 8; ++w) {
    sched.spawn([&, w] {
      AlignedBuffer buf(kChunk);
      std::uint64_t s = 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(w);
      while (next < bytes) {
        std::uint64_t offset = next;
        next += kChunk;
        auto* words = reinterpret_cast<std::uint64_t*>(buf.data());
        for (std::size_t i = 0; i < kChunk / 8; ++i) words[i] = xorshift(s);
        check(file->write_at(offset, buf.span()));
      }
    });
  }
  drive(sched, reactor);
  check(file->fdatasync());
  check(file->close());
}

struct ReadResult {
  std::uint64_t reads = 0;
  double seconds = 0;
  std::uint64_t enters = 0;
  double cpu_seconds = 0;  // this thread's user + system time
};

ReadResult random_reads(Scheduler& sched, Reactor& reactor, const std::string& path,
                        std::uint64_t bytes, const BenchOptions& o) {
  OpenOptions ro;
  ro.direct = true;
  auto file = File::open(path, ro);
  if (!file) die(file.error().to_string());
  const std::uint64_t pages = bytes / kPageSize;
  ReadResult r;
  bool stop = false;
  sched.add_timer(Clock::now() + std::chrono::seconds(o.seconds), [&] { stop = true; });
  std::uint64_t enters_before = reactor.stats().enters;
  double cpu_before = thread_cpu_seconds();
  TimePoint start = Clock::now();
  for (int f = 0; f < o.depth; ++f) {
    sched.spawn([&, f] {
      AlignedBuffer page(kPageSize);
      std::uint64_t s = 0x2545f4914f6cdd1dULL * static_cast<std::uint64_t>(f + 1);
      while (!stop) {
        std::uint64_t offset = (xorshift(s) % pages) * kPageSize;
        auto n = file->read_at(offset, page.span());
        if (!n) die(n.error().to_string());
        ++r.reads;
      }
    });
  }
  drive(sched, reactor);
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.enters = reactor.stats().enters - enters_before;
  r.cpu_seconds = thread_cpu_seconds() - cpu_before;
  check(file->close());
  return r;
}

bool on_path(const char* program) {
  std::string cmd = std::string("command -v ") + program + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// fio's JSON report: the first "iops" after "read" is the read side's IOPS.
double run_fio(const std::string& path, std::uint64_t bytes, const BenchOptions& o) {
  std::string cmd = "fio --name=randread --filename=" + path +
                    " --direct=1 --rw=randread --bs=4k --ioengine=io_uring --iodepth=" +
                    std::to_string(o.depth) + " --size=" + std::to_string(bytes) +
                    " --runtime=" + std::to_string(o.seconds) +
                    " --time_based --numjobs=1 --output-format=json 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  std::size_t read_at = out.find("\"read\"");
  if (read_at == std::string::npos) return -1;
  std::size_t iops_at = out.find("\"iops\"", read_at);
  if (iops_at == std::string::npos) return -1;
  std::size_t colon = out.find(':', iops_at);
  return colon == std::string::npos ? -1 : std::strtod(out.c_str() + colon + 1, nullptr);
}

void measure_idle(Scheduler& sched, Reactor& reactor, int seconds) {
  std::uint64_t loops = 0, sleeps_before = reactor.stats().sleeps;
  double cpu_before = thread_cpu_seconds();
  TimePoint end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    sched.run_round();
    auto deadline = sched.next_deadline();
    if (!deadline || *deadline > end) deadline = end;
    reactor.poll(!sched.has_ready(), deadline);
    ++loops;
  }
  double cpu = thread_cpu_seconds() - cpu_before;
  std::printf("idle shard loop: %d s, CPU %.3f ms (%.4f%% of a core), %llu loop turns, %llu sleeps\n",
              seconds, cpu * 1e3, cpu / seconds * 100, static_cast<unsigned long long>(loops),
              static_cast<unsigned long long>(reactor.stats().sleeps - sleeps_before));
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions o = parse_args(argc, argv);
  std::filesystem::create_directories(o.dir);
  const std::string path = o.dir + "/randread.dat";
  const std::uint64_t bytes = o.size_mib << 20;

  Scheduler sched;
  ReactorOptions reactor_options;
  if (o.submit_batch >= 0) reactor_options.submit_batch = static_cast<unsigned>(o.submit_batch);
  Reactor reactor(reactor_options);
  check(reactor.init());
  std::printf("reactor ring flags 0x%x, submit batch %u, file %s (%llu MiB), depth %d, %d s per run\n",
              reactor.ring_flags(), reactor_options.submit_batch, path.c_str(),
              static_cast<unsigned long long>(o.size_mib), o.depth, o.seconds);

  std::error_code ec;
  if (std::filesystem::file_size(path, ec) != bytes || ec) {
    auto t0 = Clock::now();
    create_data_file(sched, reactor, path, bytes);
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("created data file: %.1f s (%.0f MiB/s O_DIRECT writes)\n", s, o.size_mib / s);
  }

  ReadResult r = random_reads(sched, reactor, path, bytes, o);
  double ours = r.reads / r.seconds;
  std::printf("cascade reactor: %.0f IOPS (%llu reads in %.2f s, %.3f io_uring_enter per read, "
              "CPU %.0f%% of a core, %.2f us CPU per read)\n",
              ours, static_cast<unsigned long long>(r.reads), r.seconds,
              static_cast<double>(r.enters) / static_cast<double>(r.reads),
              r.cpu_seconds / r.seconds * 100, r.cpu_seconds / static_cast<double>(r.reads) * 1e6);

  if (o.fio && on_path("fio")) {
    double fio = run_fio(path, bytes, o);
    if (fio > 0) {
      std::printf("fio io_uring:    %.0f IOPS\n", fio);
      std::printf("ratio cascade/fio: %.1f%%\n", ours / fio * 100);
    } else {
      std::printf("fio: could not run or parse its report\n");
    }
  } else {
    std::printf("fio: skipped\n");
  }

  measure_idle(sched, reactor, o.idle_seconds);
  if (!o.keep) std::filesystem::remove(path, ec);
  return 0;
}
