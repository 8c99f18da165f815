// See shard_count_file.h for the format and the creation protocol.
#include "src/server/shard_count_file.h"

#include <charconv>

#include "fmt/format.h"

namespace cascade::server {
namespace {

constexpr std::string_view kHeader = "cascade-shards 1\n";
constexpr std::size_t kMaxFileSize = 64;
constexpr std::size_t kMaxShards = 1024;  // the `shards` directive's bound

std::string path_in(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name);
}

Result<std::size_t> parse(const std::string& path, std::string_view data) {
  if (!data.starts_with(kHeader)) {
    return Status::corruption(path + ": not a cascade shard count file of version 1");
  }
  data.remove_prefix(kHeader.size());
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(data.data(), data.data() + data.size(), n);
  if (ec != std::errc() || std::string_view(end, data.data() + data.size() - end) != "\n" ||
      n == 0 || n > kMaxShards) {
    return Status::corruption(path + ": malformed shard count");
  }
  return n;
}

Result<std::size_t> read_count(runtime::FileSystem& fs, const std::string& path) {
  auto file = fs.open(path, runtime::OpenOptions::read_only());
  if (!file) return file.error();
  std::string data(kMaxFileSize + 1, '\0');
  auto n = (*file)->read_at(0, {reinterpret_cast<std::byte*>(data.data()), data.size()});
  (void)(*file)->close();  // read-only: nothing to lose
  if (!n) return n.error();
  data.resize(*n);
  return parse(path, data);
}

Status write_count(runtime::FileSystem& fs, const std::string& dir, std::size_t shards) {
  return runtime::replace_file_atomically(fs, dir, std::string(kShardCountFileName),
                                          std::string(kHeader) + std::to_string(shards) + "\n");
}

}  // namespace

Result<ShardCount> load_or_create_shard_count(runtime::FileSystem& fs, const std::string& dir,
                                              std::size_t requested) {
  const std::string path = path_in(dir, kShardCountFileName);
  Result<bool> exists = fs.exists(path);
  if (!exists) return exists.error();
  if (*exists) {
    Result<std::size_t> stored = read_count(fs, path);
    if (!stored) return stored.error();
    return ShardCount{*stored, false};
  }
  if (Status s = write_count(fs, dir, requested); !s) return s;
  return ShardCount{requested, true};
}

std::string shard_directory(const std::string& dir, std::size_t shard) {
  return fmt::format("{}/shard-{:03}", dir, shard);
}

}  // namespace cascade::server
