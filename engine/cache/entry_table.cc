#include "engine/cache/entry_table.h"

#include <cassert>

namespace cascade::engine {

void EntryTable::insert(CacheEntry* e) {
  assert(find(e->key, e->hash) == nullptr);
  if (size_ >= buckets_.size()) grow();
  CacheEntry*& bucket = buckets_[e->hash & mask()];
  e->hash_next = bucket;
  bucket = e;
  ++size_;
}

void EntryTable::remove(CacheEntry* e) {
  CacheEntry** link = &buckets_[e->hash & mask()];
  while (*link != e) {
    assert(*link != nullptr && "removing an entry that is not in the table");
    link = &(*link)->hash_next;
  }
  *link = e->hash_next;
  e->hash_next = nullptr;
  --size_;
}

void EntryTable::grow() {
  std::vector<CacheEntry*> bigger(buckets_.size() * 2, nullptr);
  std::size_t bigger_mask = bigger.size() - 1;
  for (CacheEntry* head : buckets_) {
    while (head != nullptr) {
      CacheEntry* next = head->hash_next;
      CacheEntry*& bucket = bigger[head->hash & bigger_mask];
      head->hash_next = bucket;
      bucket = head;
      head = next;
    }
  }
  buckets_.swap(bigger);
}

}  // namespace cascade::engine
