// bench-engine-table: builds one table on the real disk and measures it through O_DIRECT,
// so every block read goes to the device (no page cache, no block cache). Not a test.
//
//   bench-engine-table [dir] [entries] [value_size] [keep]
//
// Workload: keys user:NNNNNNNN in order, values of value_size bytes (default 100), half
// JSON-like text and half random bytes. Prints build MB/s (of key + value bytes), point
// get latency and reads per get for present and absent keys, and full-scan MB/s. With
// `keep`, the table stays in dir (as 000001.sst) for cascade-dump.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine/format/checksum.h"
#include "engine/table/table_builder.h"
#include "engine/table/table_reader.h"
#include "src/runtime/file_system.h"
#include "src/runtime/reactor.h"

using namespace cascade;
using namespace cascade::engine;
using Clock = std::chrono::steady_clock;

namespace {

std::string user_key(std::uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "user:%08llu", static_cast<unsigned long long>(i * 2));
  return buf;
}

std::string make_value(std::mt19937_64& rng, std::size_t size) {
  std::string v;
  if (rng() % 2 == 0) {
    while (v.size() < size) v += "{\"field" + std::to_string(rng() % 50) + "\":\"abc\"}";
  } else {
    for (std::size_t i = 0; i < size; ++i) v.push_back(static_cast<char>(rng()));
  }
  v.resize(size);
  return v;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void die(const Status& s, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  std::exit(1);
}

std::unique_ptr<runtime::FileHandle> open_direct(const std::string& path, bool create) {
  runtime::OpenOptions o = create ? runtime::OpenOptions::read_write_create()
                                  : runtime::OpenOptions::read_only();
  o.truncate = create;
  o.direct = true;
  auto f = runtime::real_file_system().open(path, o);
  if (!f) die(f.error(), "open");
  return std::move(*f);
}

void bench_gets(TableReader& reader, std::uint64_t entries, bool present, int count) {
  std::mt19937_64 rng(7);
  std::vector<double> us;
  std::uint64_t reads_before = reader.read_stats()->reads;
  for (int i = 0; i < count; ++i) {
    std::string uk = present ? user_key(rng() % entries) : user_key(rng() % entries) + "x";
    std::string seek;
    append_internal_key(seek, uk, kMaxSequenceNumber, kValueTypeForSeek);
    auto t = Clock::now();
    auto got = reader.get(seek, key_hash(uk));
    us.push_back(seconds_since(t) * 1e6);
    if (!got) die(got.error(), "get");
    if (got->has_value() != present) die(Status::corruption("wrong answer"), "get");
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  std::printf("get %-8s %6d gets: avg %7.1f us  p50 %7.1f  p99 %7.1f  reads/get %.3f\n",
              present ? "present" : "absent", count, sum / count, us[us.size() / 2],
              us[us.size() * 99 / 100],
              double(reader.read_stats()->reads - reads_before) / count);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp";
  std::uint64_t entries = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 300000;
  std::size_t value_size = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100;
  bool keep = argc > 4 && std::string(argv[4]) == "keep";
  std::string path = dir + (keep ? "/000001.sst" : "/bench-table-" + std::to_string(::getpid()) + ".sst");

  runtime::Reactor reactor;  // file IO outside a fiber blocks on this thread's reactor
  if (Status s = reactor.init(); !s) die(s, "reactor");

  std::mt19937_64 rng(1);
  std::vector<std::string> values;
  for (int i = 0; i < 1024; ++i) values.push_back(make_value(rng, value_size));

  auto file = open_direct(path, true);
  TableBuilderOptions options;
  options.file_number = 1;
  TableBuilder builder(*file, options);
  std::uint64_t raw = 0;
  auto t = Clock::now();
  for (std::uint64_t i = 0; i < entries; ++i) {
    std::string k;
    append_internal_key(k, user_key(i), i + 1, ValueType::kValue);
    const std::string& v = values[(i * 7919) % values.size()];
    raw += k.size() + v.size();
    if (Status s = builder.add(k, v); !s) die(s, "add");
  }
  auto props = builder.finish();
  if (!props) die(props.error(), "finish");
  double build_s = seconds_since(t);
  std::printf("build: %llu entries, %.1f MB raw -> %.1f MB file in %.2f s: %.1f MB/s raw, "
              "%.1f MB/s written\n",
              (unsigned long long)entries, raw / 1e6, props->file_size / 1e6, build_s,
              raw / 1e6 / build_s, props->file_size / 1e6 / build_s);
  std::printf("       %llu data blocks (%llu compressed), %llu index partitions, filter %llu B\n",
              (unsigned long long)props->num_data_blocks,
              (unsigned long long)props->num_compressed_blocks,
              (unsigned long long)props->num_index_partitions,
              (unsigned long long)props->filter_size);
  file.reset();

  auto rfile = open_direct(path, false);
  t = Clock::now();
  auto reader = TableReader::open(*rfile, 1, props->file_size);
  if (!reader) die(reader.error(), "open");
  std::printf("open: %.1f us\n", seconds_since(t) * 1e6);
  bench_gets(**reader, entries, true, 20000);
  bench_gets(**reader, entries, false, 20000);

  auto it = (*reader)->iterator();
  std::uint64_t scanned = 0, n = 0;
  t = Clock::now();
  for (it->seek_to_first(); it->valid(); it->next(), ++n) scanned += it->key().size() + it->value().size();
  if (!it->status().is_ok()) die(it->status(), "scan");
  double scan_s = seconds_since(t);
  std::printf("scan: %llu entries, %.1f MB in %.2f s: %.1f MB/s (one 4 KiB read per block)\n",
              (unsigned long long)n, scanned / 1e6, scan_s, scanned / 1e6 / scan_s);
  if (!keep) ::unlink(path.c_str());
  return 0;
}
