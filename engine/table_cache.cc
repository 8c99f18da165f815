#include "engine/table_cache.h"

#include "engine/cached_block_reader.h"

#include "engine/version/file_names.h"

namespace cascade::engine {

std::string table_file_name(std::uint64_t file_number) {
  return numbered_file_name(file_number, "sst");
}

Result<OpenTablePtr> TableCache::get(std::uint64_t file_number, std::uint64_t file_size) {
  if (auto it = tables_.find(file_number); it != tables_.end()) return it->second;
  Result<OpenTablePtr> opened = open_table(file_number, file_size);
  if (!opened) return opened;
  // Another fiber may have opened it while this one waited on IO: keep the first.
  auto [it, inserted] = tables_.emplace(file_number, *opened);
  return it->second;
}

Result<OpenTablePtr> TableCache::open_table(std::uint64_t file_number, std::uint64_t file_size) {
  runtime::OpenOptions options = runtime::OpenOptions::read_only();
  options.direct = true;
  auto table = std::make_shared<OpenTable>();
  auto file = fs_.open(path_join(dir_, table_file_name(file_number)), options);
  if (!file) {
    // The version names this table: a missing file is damage, not "no such key".
    if (file.error().is_not_found()) {
      return Status::corruption("table " + table_file_name(file_number) + " is missing");
    }
    return file.error();
  }
  table->file = std::move(*file);
  TableReaderOptions reader_options;
  reader_options.prefix_extractor = prefix_extractor_;
  if (block_cache_) {
    table->block_reader =
        std::make_unique<CachedBlockReader>(*block_cache_, *table->file, file_number);
    reader_options.block_reader = table->block_reader.get();
  }
  auto reader = TableReader::open(*table->file, file_number, file_size, reader_options);
  if (!reader) return reader.error();
  table->reader = std::move(*reader);
  return table;
}

}  // namespace cascade::engine
