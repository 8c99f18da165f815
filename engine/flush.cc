#include "engine/flush.h"

#include "engine/table/table_builder.h"
#include "engine/table_cache.h"
#include "engine/version/file_names.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

namespace {

// The entry the table gets for (ikey, value): the entry itself, or a pointer to the value:
// the one its write logged, or one the separator writes now. `key` and `pointer` are
// reused buffers.
Status separate(const FlushOptions& options, std::string_view& ikey, std::string_view& value,
                std::string& key, std::string& pointer) {
  if (options.separator == nullptr && options.logged == nullptr) return Status::ok();
  ParsedInternalKey parsed;
  if (!parse_internal_key(ikey, parsed)) return Status::corruption("flush: malformed memtable key");
  if (parsed.type != ValueType::kValue) return Status::ok();
  const ValuePointer* written = options.logged ? options.logged->find(parsed.sequence) : nullptr;
  Result<ValuePointer> separated = ValuePointer{};
  if (written != nullptr) {
    if (options.logged_live) (*options.logged_live)[written->file_number] += written->size;
  } else if (options.separator && options.separator->separates(parsed.type, value)) {
    separated = options.separator->add(parsed.user_key, value);
    if (!separated) return separated.error();
    written = &*separated;
  } else {
    return Status::ok();
  }
  key.clear();
  append_internal_key(key, parsed.user_key, parsed.sequence, ValueType::kValuePointer);
  pointer.clear();
  written->encode_to(pointer);
  ikey = key;
  value = pointer;
  return Status::ok();
}

Result<TableProperties> build(runtime::FileHandle& file, std::uint64_t file_number,
                              const MemTable& mem, const FlushOptions& options) {
  TableBuilderOptions builder_options;
  builder_options.file_number = file_number;
  builder_options.compression = options.compression;
  builder_options.filter.bits_per_key = options.bloom_bits_per_key;
  builder_options.filter.prefix_extractor = options.prefix_extractor;
  TableBuilder builder(file, builder_options);
  MemTable::Iterator it(mem);
  std::uint64_t n = 0;
  std::string key, pointer;
  for (it.seek_to_first(); it.valid(); it.next()) {
    std::string_view ikey = it.key(), value = it.value();
    Status s = separate(options, ikey, value, key, pointer);
    if (s) s = builder.add(ikey, value);
    if (!s) {
      builder.abandon();
      return s;
    }
    if (++n % kFlushYieldEntries == 0) runtime::this_fiber::yield();
  }
  return builder.finish();
}

}  // namespace

Result<TableFile> write_level0_table(runtime::FileSystem& fs, const std::string& dir,
                                     std::uint64_t file_number, const MemTable& mem,
                                     const FlushOptions& options) {
  const std::string path = path_join(dir, table_file_name(file_number));
  runtime::OpenOptions create = runtime::OpenOptions::read_write_create();
  create.direct = true;
  create.truncate = true;  // a leftover of a crashed flush may carry this number
  auto file = fs.open(path, create);
  if (!file) return file.error();
  Result<TableProperties> props = build(**file, file_number, mem, options);
  Status closed = (*file)->close();
  if (props && !closed) props = closed;
  if (!props) {
    (void)fs.remove(path);
    return props.error();
  }
  TableFile table;
  table.file_number = file_number;
  table.file_size = props->file_size;
  table.smallest = props->smallest_key;
  table.largest = props->largest_key;
  table.smallest_sequence = props->smallest_sequence;
  table.largest_sequence = props->largest_sequence;
  return table;
}

}  // namespace cascade::engine
