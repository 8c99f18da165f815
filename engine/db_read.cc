// The read path: get() and iterator() over one instant's sources (db.h, "Read path").
#include <algorithm>

#include "engine/db.h"
#include "engine/format/checksum.h"
#include "engine/iterator/memtable_iterator.h"
#include "engine/iterator/merging_iterator.h"
#include "engine/pinned_iterator.h"
#include "engine/vlog/vlog_prefetcher.h"
#include "src/runtime/small_buffer.h"

namespace cascade::engine {

struct DB::ReadSources {
  SequenceNumber sequence = 0;
  std::vector<std::shared_ptr<MemTable>> memtables;  // mutable first, then newest immutable
  std::shared_ptr<const Version> version;
};

namespace {

// The server's engine keys are inline up to 128 bytes (types::Keyspace::read); their seek
// keys add the trailer.
constexpr std::size_t kInlineSeekKey = 128 + kTrailerSize;

// Pointers are made at flush, so a memtable never holds one.
Status pointer_in_memtable() {
  return Status::corruption("memtable holds a value pointer");
}

// The same test as DBIterator's prefix range: can a key in [smallest, largest] start
// with `prefix`?
bool range_may_hold_prefix(const TableFile& t, std::string_view prefix) {
  if (t.largest_user_key() < prefix) return false;
  std::string_view smallest = t.smallest_user_key();
  return smallest <= prefix || smallest.substr(0, prefix.size()) == prefix;
}

bool outside_bounds(const TableFile& t, const ReadOptions& options) {
  if (options.lower_bound && t.largest_user_key() < *options.lower_bound) return true;
  if (options.upper_bound && t.smallest_user_key() >= *options.upper_bound) return true;
  if (options.prefix && !range_may_hold_prefix(t, *options.prefix)) return true;
  return false;
}

}  // namespace

DB::ReadSources DB::read_sources(const ReadOptions& options) const {
  ReadSources s;
  s.sequence = options.snapshot       ? options.snapshot->sequence()
               : options.unacknowledged ? inserted_through_
                                        : visible_sequence_;
  s.memtables.reserve(1 + imm_.size());
  s.memtables.push_back(mem_);
  for (auto it = imm_.rbegin(); it != imm_.rend(); ++it) s.memtables.push_back(it->mem);
  s.version = versions_->current();
  return s;
}

Result<std::optional<std::string>> DB::get(std::string_view key, const ReadOptions& options) {
  const SequenceNumber sequence = options.snapshot       ? options.snapshot->sequence()
                                  : options.unacknowledged ? inserted_through_
                                                           : visible_sequence_;
  // The memtables are probed in place, not through read_sources()' shared copies (an
  // allocation and a reference count per source on every get): nothing here suspends, so
  // no flush can retire one of them before the version is taken below, at the same instant.
  const std::uint64_t hash = key_hash(key);
  LookupResult r = mem_->get(key, hash, sequence);
  for (auto it = imm_.rbegin(); it != imm_.rend() && r.state == LookupState::kNotPresent; ++it) {
    r = it->mem->get(key, hash, sequence);
  }
  if (r.state != LookupState::kNotPresent) {
    if (r.state == LookupState::kDeleted) return std::optional<std::string>();
    if (r.type == ValueType::kValuePointer) return pointer_in_memtable();
    return std::optional<std::string>(std::string(r.value));
  }
  const std::shared_ptr<const Version> version = versions_->current();
  return get_from_tables(*version, sequence, key, hash);
}

void DB::prefetch(std::span<const std::string_view> keys,
                  std::span<const std::string_view> written) const {
  mem_->prefetch_lookups(keys);
  for (auto it = imm_.rbegin(); it != imm_.rend(); ++it) it->mem->prefetch_lookups(keys);
  mem_->prefetch_inserts(written);
}

Result<std::optional<std::string>> DB::get_from_tables(const Version& version,
                                                       SequenceNumber sequence,
                                                       std::string_view key,
                                                       std::uint64_t hash) {
  // On the stack for the usual key: a point lookup allocates nothing for its seek key.
  runtime::SmallBuffer<kInlineSeekKey> seek;
  encode_internal_key(seek.prepare(key.size() + kTrailerSize), key, sequence, kValueTypeForSeek);
  const std::string_view seek_key = seek.view();
  bool found = false;
  for (const TableFilePtr& t : version.files(0)) {  // newest first
    if (key < t->smallest_user_key() || key > t->largest_user_key()) continue;
    if (t->smallest_sequence > sequence) continue;
    auto r = get_from_table(*t, seek_key, hash, version, found);
    if (!r || found) return r;
  }
  for (int level = 1; level < kNumLevels; ++level) {
    TableFilePtr t = version.find_file(level, seek_key);
    if (!t) continue;
    auto r = get_from_table(*t, seek_key, hash, version, found);
    if (!r || found) return r;
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> DB::get_from_table(const TableFile& table,
                                                      std::string_view seek_key,
                                                      std::uint64_t hash,
                                                      const Version& version, bool& found) {
  auto open = tables_.get(table.file_number, table.file_size);
  if (!open) return open.error();
  auto entry = (*open)->reader->get(seek_key, hash);
  if (!entry) return entry.error();
  found = entry->has_value();
  if (!found) return std::optional<std::string>();
  switch ((*entry)->type) {
    case ValueType::kDeletion:
      return std::optional<std::string>();
    case ValueType::kValuePointer: {
      auto value = value_log_.get(extract_user_key(seek_key), (*entry)->value, version);
      if (!value) return value.error();
      return std::optional<std::string>(std::move(*value));
    }
    case ValueType::kValue:
      break;
  }
  return std::optional<std::string>(std::string((*entry)->value));
}

std::unique_ptr<DBIterator> DB::iterator(const ReadOptions& options) {
  ReadSources sources = read_sources(options);
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (const auto& mem : sources.memtables) {
    children.push_back(
        std::make_unique<PinnedIterator>(std::make_unique<MemTableIterator>(*mem), mem));
  }
  // The prefix filter is asked only when the prefix is one the extractor produces itself
  // (db_options.h: the extractor contract).
  const PrefixExtractor* extractor = options_.prefix_extractor;
  bool use_prefix_filter = false;
  if (options.prefix && extractor != nullptr) {
    auto extracted = extractor->extract(*options.prefix);
    use_prefix_filter = extracted && *extracted == *options.prefix;
  }
  for (int level = 0; level < kNumLevels; ++level) {
    for (const TableFilePtr& t : sources.version->files(level)) {
      if (outside_bounds(*t, options)) continue;
      auto open = tables_.get(t->file_number, t->file_size);
      if (!open) {
        children.push_back(std::make_unique<ErrorIterator>(open.error()));
        continue;
      }
      if (use_prefix_filter && !(*open)->reader->may_contain_prefix(*options.prefix)) continue;
      children.push_back(std::make_unique<PinnedIterator>((*open)->reader->iterator(), *open));
    }
  }
  DBIteratorOptions db_options;
  db_options.snapshot = sources.sequence;
  db_options.lower_bound = options.lower_bound;
  db_options.upper_bound = options.upper_bound;
  db_options.prefix = options.prefix;
  // The version stays held while the scan lives, so its files count as live. A lone child
  // is the mutable memtable (it is always a child, first), whose keys need no merging.
  std::unique_ptr<InternalIterator> merged =
      children.size() == 1 ? std::move(children.front())
                           : std::make_unique<MergingIterator>(std::move(children));
  std::unique_ptr<ValueResolver> resolver;
  if (options.resolve_values) {
    resolver = std::make_unique<VlogPrefetcher>(value_log_, sources.version);
  }
  return std::make_unique<DBIterator>(
      std::make_unique<PinnedIterator>(std::move(merged), sources.version), db_options,
      std::move(resolver));
}

}  // namespace cascade::engine
