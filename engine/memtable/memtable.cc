// See memtable.h for the contract and the measurements behind the index choice.
#include "engine/memtable/memtable.h"

#include <algorithm>
#include <cassert>
#include <cstdint>

namespace cascade::engine {

MemTable::MemTable(std::shared_ptr<HugeBlockPool> pool) : arena_(std::move(pool)), index_(arena_) {}

void MemTable::add(SequenceNumber seq, ValueType type, std::string_view user_key,
                   std::string_view value) {
  assert(!immutable_);
  assert(user_key.size() <= UINT32_MAX - kTrailerSize && value.size() <= UINT32_MAX);
  index_.insert(make_entry(arena_, user_key, seq, type, value));
}

void MemTable::add_all(std::span<const WriteBatchRecord> records) {
  while (!records.empty()) {
    const std::size_t n = std::min(records.size(), BTree::kMaxPrefetch);
    if (n > 1) {
      SearchKey keys[BTree::kMaxPrefetch];
      for (std::size_t i = 0; i < n; ++i) {
        keys[i] = SearchKey::from_parts(records[i].key, records[i].sequence, records[i].type);
      }
      index_.prefetch(std::span<const SearchKey>(keys, n));
    }
    for (std::size_t i = 0; i < n; ++i) {
      add(records[i].sequence, records[i].type, records[i].key, records[i].value);
    }
    records = records.subspan(n);
  }
}

void MemTable::prefetch_lookups(std::span<const std::string_view> user_keys) const {
  const std::size_t n = std::min(user_keys.size(), BTree::kMaxPrefetch);
  if (n < 2) return;  // a lone lookup has no other miss to overlap with
  SearchKey keys[BTree::kMaxPrefetch];
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = SearchKey::from_parts(user_keys[i], kMaxSequenceNumber, kValueTypeForSeek);
  }
  index_.prefetch(std::span<const SearchKey>(keys, n));
}

LookupResult MemTable::get(std::string_view user_key, SequenceNumber snapshot) const {
  // The seek key sorts before every version of user_key with sequence <= snapshot and after
  // every newer one, so the first entry at or past it is the newest visible version.
  // Built from parts rather than encoded: a lookup allocates nothing.
  BTree::Iterator it(index_);
  it.seek(SearchKey::from_parts(user_key, std::min(snapshot, kMaxSequenceNumber),
                                kValueTypeForSeek));
  LookupResult result;
  if (!it.valid()) return result;
  ParsedInternalKey found;
  bool ok = parse_internal_key(entry_internal_key(it.entry()), found);
  assert(ok);
  (void)ok;
  if (found.user_key != user_key) return result;
  result.sequence = found.sequence;
  result.type = found.type;
  if (found.type == ValueType::kDeletion) {
    result.state = LookupState::kDeleted;
  } else {
    result.state = LookupState::kFound;
    result.value = entry_value(it.entry());
  }
  return result;
}

}  // namespace cascade::engine
