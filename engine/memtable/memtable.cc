// See memtable.h for the contract and the measurements behind the index choice.
#include "engine/memtable/memtable.h"

#include <algorithm>
#include <cassert>
#include <cstdint>

#include "engine/format/checksum.h"

namespace cascade::engine {

MemTable::MemTable(std::shared_ptr<HugeBlockPool> pool, std::size_t size_target)
    : arena_(pool), index_(arena_), points_(size_target, std::move(pool)) {}

void MemTable::add(SequenceNumber seq, ValueType type, std::string_view user_key,
                   std::string_view value) {
  add_hashed(seq, type, user_key, value, key_hash(user_key));
}

BTree::InsertHint MemTable::add_hashed(SequenceNumber seq, ValueType type,
                                       std::string_view user_key, std::string_view value,
                                       std::uint64_t hash, const BTree::InsertHint& hint) {
  assert(!immutable_);
  assert(user_key.size() <= UINT32_MAX - kTrailerSize && value.size() <= UINT32_MAX);
  const char* entry = make_entry(arena_, user_key, seq, type, value);
  const BTree::InsertHint followed = index_.insert(entry, hint);  // no hint: a descent
  points_.record(hash, user_key, seq, entry);
  return followed;
}

void MemTable::add_all(std::span<const WriteBatchRecord> records) {
  while (!records.empty()) {
    const std::size_t n = std::min(records.size(), BTree::kMaxPrefetch);
    std::uint64_t hashes[BTree::kMaxPrefetch];
    for (std::size_t i = 0; i < n; ++i) {
      hashes[i] = key_hash(records[i].key);
      points_.prefetch(hashes[i]);
    }
    // The prefetch's descent also tells each insert its leaf (BTree::InsertHint); a lone
    // record is not prefetched, and its empty hint sends it down the tree.
    BTree::InsertHint hints[BTree::kMaxPrefetch];
    if (n > 1) {
      SearchKey keys[BTree::kMaxPrefetch];
      for (std::size_t i = 0; i < n; ++i) {
        keys[i] = SearchKey::from_parts(records[i].key, records[i].sequence, records[i].type);
      }
      index_.prefetch(std::span<const SearchKey>(keys, n), hints);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const BTree::InsertHint followed =
          add_hashed(records[i].sequence, records[i].type, records[i].key, records[i].value,
                     hashes[i], hints[i]);
      // The leaf took the entry and kept its range: later keys hinted to it still go there.
      if (followed.leaf == nullptr) continue;
      for (std::size_t j = i + 1; j < n; ++j) {
        if (hints[j].leaf == followed.leaf && hints[j].version + 1 == followed.version) {
          hints[j].version = followed.version;
        }
      }
    }
    records = records.subspan(n);
  }
}

// Two passes, as BTree::prefetch goes a level at a time: the keys' slots are requested
// together, then each key's entry (named by its slot, now in the cache or on its way; no
// entry is read, so their misses overlap too). The tree is left alone: a lookup that will
// descend it (an old snapshot, a miss in an incomplete index) is rare enough not to pay
// for every key's path.
void MemTable::prefetch_lookups(std::span<const std::string_view> user_keys) const {
  const std::size_t n = std::min(user_keys.size(), BTree::kMaxPrefetch);
  if (n < 2) return;  // a lone lookup has no other miss to overlap with
  std::uint64_t hashes[BTree::kMaxPrefetch];
  for (std::size_t i = 0; i < n; ++i) {
    hashes[i] = key_hash(user_keys[i]);
    points_.prefetch(hashes[i]);
  }
  for (std::size_t i = 0; i < n; ++i) points_.prefetch_entry(hashes[i]);
}

void MemTable::prefetch_inserts(std::span<const std::string_view> user_keys) const {
  const std::size_t n = std::min(user_keys.size(), BTree::kMaxPrefetch);
  if (n < 2) return;
  SearchKey keys[BTree::kMaxPrefetch];
  // A new version sorts before every older one of its key: the highest sequence finds the
  // leaf it will go to (and, on a prefix tie, the older version's entry its search reads).
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = SearchKey::from_parts(user_keys[i], kMaxSequenceNumber, ValueType::kValue);
  }
  index_.prefetch(std::span<const SearchKey>(keys, n));
}

namespace {

// The lookup's answer from `entry`, the newest version at or below its snapshot, when it
// belongs to user_key; else nothing is there.
LookupResult result_from(const char* entry, std::string_view user_key) {
  LookupResult result;
  ParsedInternalKey found;
  bool ok = parse_internal_key(entry_internal_key(entry), found);
  assert(ok);
  (void)ok;
  if (found.user_key != user_key) return result;
  result.sequence = found.sequence;
  result.type = found.type;
  if (found.type == ValueType::kDeletion) {
    result.state = LookupState::kDeleted;
  } else {
    result.state = LookupState::kFound;
    result.value = entry_value(entry);
  }
  return result;
}

}  // namespace

LookupResult MemTable::get(std::string_view user_key, SequenceNumber snapshot) const {
  return get(user_key, key_hash(user_key), snapshot);
}

LookupResult MemTable::get(std::string_view user_key, std::uint64_t hash,
                           SequenceNumber snapshot) const {
  // The key's newest version answers every snapshot that sees it; no version at all
  // answers every snapshot when the index holds every key.
  if (const char* newest = points_.newest(hash, user_key)) {
    if ((extract_trailer(entry_internal_key(newest)) >> 8) <= snapshot) {
      return result_from(newest, user_key);
    }
  } else if (points_.complete()) {
    return LookupResult{};
  }
  // The seek key sorts before every version of user_key with sequence <= snapshot and after
  // every newer one, so the first entry at or past it is the newest visible version.
  // Built from parts rather than encoded: a lookup allocates nothing.
  BTree::Iterator it(index_);
  it.seek(SearchKey::from_parts(user_key, std::min(snapshot, kMaxSequenceNumber),
                                kValueTypeForSeek));
  if (!it.valid()) return LookupResult{};
  return result_from(it.entry(), user_key);
}

}  // namespace cascade::engine
