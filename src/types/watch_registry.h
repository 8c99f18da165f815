// WatchRegistry: one shard's WATCHes: which clients watch which of this shard's keys, and
// whether a watched key changed since. A client's EXEC fails (a null array) when any key it
// watches changed between its WATCH and the EXEC (Redis 7.0's rules):
//
//   - a committed write to the key's record by anyone, this client included (touch(): every
//     LockedKey write, every transaction's write, a MULTI/EXEC's staged write; but not the
//     writes of this client's own EXEC, which has checked its watches already);
//   - FLUSHDB/FLUSHALL of its database when the key existed (touch_existing(), from
//     Keyspace::flush);
//   - the key expiring: the expiry seen at WATCH time (a live key's) has passed at EXEC
//     (changed()). Deleting an already expired record is no change (the lazy and active
//     expiry paths do not touch): a key that was expired when watched stays "missing", and
//     one that was live is caught by its recorded expiry instead.
//
// Keys are (database number, key name), not engine keys: a flush gives the database a new
// id, and later writes to the key must still find the watch.
//
// Concurrency: the owning shard's thread only, no suspension inside. The registry is
// exact because watches and EXEC's check run under the key's stripe (key_locks.h) and a
// writer touches before it releases its stripe: no write to a watched key is in flight
// while WATCH registers or EXEC checks.
//
// Cost: touch() is on every write; it is one emptiness test while nobody watches, else
// one hash lookup without allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cascade::types {

class WatchRegistry {
 public:
  // Registers `client`'s watch of (db, key); a key watched twice keeps its first watch.
  // `expire_ms`: the key's expiry at WATCH time if it was live and volatile.
  void watch(std::uint64_t client, std::uint32_t db, std::string_view key,
             std::optional<std::int64_t> expire_ms);
  // A write to (db, key) committed (or staged by an EXEC that holds the key's stripe).
  // `writer`: the client whose EXEC staged the write (0: none); its own watches are left
  // alone: its EXEC checked them before running its commands and ends them after, and an
  // attempt it drops and runs again (exec_transaction.h) must not find them changed by
  // its own earlier attempt.
  void touch(std::uint32_t db, std::string_view key, std::uint64_t writer = 0);
  // The watched keys of database `db` (for a flush: it touches those that exist).
  std::vector<std::string> watched_in(std::uint32_t db) const;
  // Did any of `client`'s watches here see a change, or a recorded expiry pass by now_ms?
  bool changed(std::uint64_t client, std::int64_t now_ms) const;
  // Forgets every watch of `client` here.
  void unwatch(std::uint64_t client);

  bool empty() const { return clients_.empty(); }
  std::size_t watched_keys() const { return watchers_.size(); }

 private:
  struct KeyView {
    std::uint32_t db;
    std::string_view key;
  };
  struct Key {
    std::uint32_t db;
    std::string key;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const KeyView& k) const {
      return std::hash<std::string_view>{}(k.key) ^ (std::size_t{k.db} * 0x9E3779B97F4A7C15ull);
    }
    std::size_t operator()(const Key& k) const { return (*this)(KeyView{k.db, k.key}); }
  };
  struct Equal {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.db, k.key}; }
    static KeyView view(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a).db == view(b).db && view(a).key == view(b).key;
    }
  };
  struct Watch {
    std::uint32_t db;
    std::string key;
    std::optional<std::int64_t> expire_ms;
  };
  struct ClientWatches {
    bool touched = false;
    std::vector<Watch> keys;
  };

  std::unordered_map<Key, std::vector<std::uint64_t>, Hash, Equal> watchers_;  // key -> clients
  std::unordered_map<std::uint64_t, ClientWatches> clients_;
};

}  // namespace cascade::types
