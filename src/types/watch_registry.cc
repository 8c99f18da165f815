// See watch_registry.h.
#include "src/types/watch_registry.h"

#include <algorithm>

namespace cascade::types {

void WatchRegistry::watch(std::uint64_t client, std::uint32_t db, std::string_view key,
                          std::optional<std::int64_t> expire_ms) {
  ClientWatches& mine = clients_[client];
  for (const Watch& w : mine.keys) {
    if (w.db == db && w.key == key) return;
  }
  mine.keys.push_back(Watch{db, std::string(key), expire_ms});
  auto it = watchers_.find(KeyView{db, key});
  if (it == watchers_.end()) it = watchers_.emplace(Key{db, std::string(key)}, std::vector<std::uint64_t>{}).first;
  it->second.push_back(client);
}

void WatchRegistry::touch(std::uint32_t db, std::string_view key, std::uint64_t writer) {
  if (watchers_.empty()) return;
  auto it = watchers_.find(KeyView{db, key});
  if (it == watchers_.end()) return;
  for (std::uint64_t client : it->second) {
    if (client != writer) clients_[client].touched = true;
  }
}

std::vector<std::string> WatchRegistry::watched_in(std::uint32_t db) const {
  std::vector<std::string> keys;
  for (const auto& [key, clients] : watchers_) {
    if (key.db == db) keys.push_back(key.key);
  }
  return keys;
}

bool WatchRegistry::changed(std::uint64_t client, std::int64_t now_ms) const {
  auto it = clients_.find(client);
  if (it == clients_.end()) return false;
  if (it->second.touched) return true;
  return std::any_of(it->second.keys.begin(), it->second.keys.end(), [now_ms](const Watch& w) {
    return w.expire_ms.has_value() && *w.expire_ms <= now_ms;
  });
}

void WatchRegistry::unwatch(std::uint64_t client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  for (const Watch& w : it->second.keys) {
    auto k = watchers_.find(KeyView{w.db, w.key});
    if (k == watchers_.end()) continue;
    std::erase(k->second, client);
    if (k->second.empty()) watchers_.erase(k);
  }
  clients_.erase(it);
}

}  // namespace cascade::types
