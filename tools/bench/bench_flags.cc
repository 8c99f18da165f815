// Parsing of cascade-bench's flags (bench_flags.h).
#include "tools/bench/bench_flags.h"

#include <charconv>
#include <string_view>

namespace cascade::bench {

namespace {

constexpr const char* kUsage =
    "usage: cascade-bench [--benchmarks=fillseq,fillrandom,overwrite,readrandom,readseq,"
    "seekrandom,readwhilewriting]\n"
    "         [--db=DIR] [--num=N] [--reads=N] [--writes=N] [--threads=N] [--value_size=N]\n"
    "         [--key_size=16] [--compression_ratio=R] [--seek_nexts=N] [--sync]\n"
    "         [--memtable_size=BYTES | --write_buffer_size=BYTES] [--use_existing_db]\n"
    "         [--cache_size=BYTES] [--min_blob_size=BYTES] [--separate_at_write=0|1] [--enable_blob_files=0|1]\n"
    "         [--seed=N] [--benchmark_write_rate_limit=BYTES_PER_SEC]\n"
    "         [--disable_auto_compactions] [--flush_on_close=0|1]\n"
    "         [--max_bytes_for_level_base=BYTES] [--target_file_size_base=BYTES]\n";

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_bool(std::string_view text, bool& out) {
  if (text.empty() || text == "1" || text == "true") {
    out = true;
  } else if (text == "0" || text == "false") {
    out = false;
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Applies one --name=value; false if the name is unknown or the value malformed.
bool apply(BenchFlags& f, std::string_view name, std::string_view value) {
  if (name == "benchmarks") {
    f.benchmarks = split_list(value);
    return true;
  }
  if (name == "db") {
    f.db = std::string(value);
    return !f.db.empty();
  }
  if (name == "num") return parse_number(value, f.num) && f.num > 0;
  if (name == "reads") return parse_number(value, f.reads);
  if (name == "writes") return parse_number(value, f.writes);
  if (name == "threads") return parse_number(value, f.threads) && f.threads > 0;
  if (name == "key_size") return parse_number(value, f.key_size) && f.key_size == 16;
  if (name == "value_size") return parse_number(value, f.value_size);
  if (name == "seek_nexts") return parse_number(value, f.seek_nexts) && f.seek_nexts >= 0;
  if (name == "seed") return parse_number(value, f.seed);
  if (name == "sync") return parse_bool(value, f.sync);
  if (name == "use_existing_db") return parse_bool(value, f.use_existing_db);
  if (name == "histogram") {
    bool ignored;
    return parse_bool(value, ignored);
  }
  if (name == "benchmark_write_rate_limit") return parse_number(value, f.benchmark_write_rate_limit);
  if (name == "disable_auto_compactions") return parse_bool(value, f.disable_auto_compactions);
  if (name == "flush_on_close") return parse_bool(value, f.flush_on_close);
  if (name == "cache_size") return parse_number(value, f.cache_size);
  if (name == "max_bytes_for_level_base") return parse_number(value, f.max_bytes_for_level_base);
  if (name == "target_file_size_base") return parse_number(value, f.target_file_size_base);
  if (name == "min_blob_size") return parse_number(value, f.min_blob_size);
  if (name == "separate_at_write") return parse_bool(value, f.separate_at_write);
  if (name == "enable_blob_files") return parse_bool(value, f.enable_blob_files);
  if (name == "memtable_size" || name == "write_buffer_size") {
    return parse_number(value, f.memtable_size) && f.memtable_size > 0;
  }
  if (name == "compression_ratio") {
    // from_chars for double is in GCC 12's libstdc++.
    return parse_number(value, f.compression_ratio) && f.compression_ratio > 0 &&
           f.compression_ratio <= 1;
  }
  return false;
}

}  // namespace

Result<BenchFlags> parse_bench_flags(int argc, char** argv) {
  BenchFlags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return Status::not_found(kUsage);
    if (!arg.starts_with("--")) {
      return Status::invalid_argument("unexpected argument '" + std::string(arg) + "'\n" + kUsage);
    }
    arg.remove_prefix(2);
    std::size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    if (!apply(flags, name, value)) {
      return Status::invalid_argument("bad flag --" + std::string(arg) + "\n" + kUsage);
    }
  }
  return flags;
}

}  // namespace cascade::bench
