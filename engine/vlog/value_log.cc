#include "engine/vlog/value_log.h"

#include "engine/format/coding.h"
#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

Result<VlogFile> vlog_file_for(const Version& version, const ValuePointer& p) {
  auto it = version.vlog_files().find(p.file_number);
  if (it == version.vlog_files().end()) {
    return Status::corruption("value pointer names " + vlog_file_name(p.file_number) +
                              ", which the version does not hold");
  }
  return it->second;
}

Result<OpenVlogPtr> ValueLog::open(std::uint64_t file_number, std::uint64_t file_size) {
  if (auto it = files_.find(file_number); it != files_.end()) return it->second;
  runtime::OpenOptions options = runtime::OpenOptions::read_only();
  options.direct = true;
  auto file = fs_.open(path_join(dir_, vlog_file_name(file_number)), options);
  if (!file) return file.error();
  auto vlog = std::make_shared<OpenVlog>();
  vlog->file = std::move(*file);
  vlog->file_number = file_number;
  vlog->file_size = file_size;
  // Another fiber may have opened it while this one waited: keep the first.
  auto [it, inserted] = files_.emplace(file_number, vlog);
  return it->second;
}

Result<std::string> ValueLog::get(std::string_view user_key, std::string_view encoded_pointer,
                                  const Version& version) {
  auto pointer = ValuePointer::decode(encoded_pointer);
  if (!pointer) return pointer.error();
  auto meta = vlog_file_for(version, *pointer);
  if (!meta) return meta.error();
  if (Status s = check_value_pointer(*pointer, meta->file_size); !s) return s;
  auto vlog = open(meta->file_number, meta->file_size);
  if (!vlog) return vlog.error();

  std::string value;
  if (block_cache_ == nullptr || pointer->size > kMaxCachedValueSize) {
    ++stats_.reads;
    if (Status s = read_vlog_value(**vlog, *pointer, user_key, value); !s) return s;
    return value;
  }
  // Cached as varint64 key_size | key | value, so a hit is checked against the key like a
  // read is.
  bool loaded = false;
  auto pinned = block_cache_->lookup_or_load(
      BlockCacheKey{pointer->file_number, pointer->offset}, CacheReadOptions{},
      [&]() -> Result<CacheValue> {
        loaded = true;
        ++stats_.reads;
        std::string prefix;
        put_length_prefixed(prefix, user_key);
        auto entry = read_vlog_value_with_prefix(**vlog, *pointer, user_key, prefix);
        if (!entry) return entry.error();
        return CacheValue::from_contents(std::move(*entry));
      });
  if (!pinned) return pinned.error();
  if (!loaded) ++stats_.cache_hits;
  std::string_view entry = pinned->data();
  std::string_view cached_key;
  if (!get_length_prefixed(entry, cached_key) || cached_key != user_key) {
    return Status::corruption("value pointer into " + vlog_file_name(pointer->file_number) +
                              " offset " + std::to_string(pointer->offset) +
                              " names another key's record");
  }
  value.assign(entry);
  return value;
}

}  // namespace cascade::engine
