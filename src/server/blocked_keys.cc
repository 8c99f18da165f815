// See blocked_keys.h. Queues are short (the clients blocked on one key), so a vector with
// linear search keeps them in order at no cost worth a fancier structure.
#include "src/server/blocked_keys.h"

#include <algorithm>

namespace cascade::server {

std::string BlockedKeys::map_key(std::uint32_t db, std::string_view key) {
  std::string out;
  out.reserve(4 + key.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(db >> shift));
  out.append(key);
  return out;
}

void BlockedKeys::add(std::uint32_t db, std::string_view key, const BlockedWaiter& waiter) {
  queues_[map_key(db, key)].push_back(waiter);
}

bool BlockedKeys::remove(std::uint32_t db, std::string_view key, std::uint64_t client_id,
                         std::uint64_t wait) {
  auto it = queues_.find(map_key(db, key));
  if (it == queues_.end()) return false;
  std::vector<BlockedWaiter>& queue = it->second;
  auto w = std::find_if(queue.begin(), queue.end(),
                        [&](const BlockedWaiter& x) { return x.same(client_id, wait); });
  if (w == queue.end()) return false;
  queue.erase(w);
  if (queue.empty()) queues_.erase(it);
  return true;
}

std::vector<BlockedWaiter> BlockedKeys::signal(std::uint32_t db, std::string_view key) {
  std::vector<BlockedWaiter> out;
  auto it = queues_.find(map_key(db, key));
  if (it == queues_.end()) return out;
  for (BlockedWaiter& w : it->second) {
    if (w.woken) continue;
    const bool kind_picked = std::any_of(out.begin(), out.end(),
                                         [&](const BlockedWaiter& x) { return x.kind == w.kind; });
    if (kind_picked) continue;
    w.woken = true;
    out.push_back(w);
  }
  return out;
}

bool BlockedKeys::begin_retry(std::uint32_t db, std::string_view key, std::uint64_t client_id,
                              std::uint64_t wait) {
  auto it = queues_.find(map_key(db, key));
  if (it == queues_.end()) return false;
  std::vector<BlockedWaiter>& queue = it->second;
  auto self = std::find_if(queue.begin(), queue.end(),
                           [&](const BlockedWaiter& x) { return x.same(client_id, wait); });
  if (self == queue.end()) return true;  // not enrolled here: anyone queued is ahead
  self->woken = false;
  const types::KeyType kind = self->kind;
  return std::any_of(queue.begin(), self, [kind](const BlockedWaiter& x) { return x.kind == kind; });
}

bool BlockedKeys::has_waiters(std::uint32_t db, std::string_view key, types::KeyType kind) const {
  auto it = queues_.find(map_key(db, key));
  if (it == queues_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [kind](const BlockedWaiter& x) { return x.kind == kind; });
}

}  // namespace cascade::server
