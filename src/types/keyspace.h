// Keyspace: one shard's Redis keys on its engine: reading a key's metadata record (with
// lazy expiry), and LockedKey, the read-modify-write session a write command runs in.
//
// Expiry is lazy: a record whose expiry has passed reads as missing. A write command
// (LockedKey::load) that finds one deletes it on the spot, under the key's lock, so the
// next write to an expired key removes it even when the command itself writes nothing
// (DEL or EXPIRE of an expired key). Active expiry is keyspace_sweeper.h; compaction drops
// expired records for good (keyspace_filter.h).
//
// Databases: every engine key starts with its database's current id (database_ids.h), so
// flush() empties databases with one small write; the sweeper deletes the retired keys.
//
// WATCH: every write a LockedKey makes (committed, or staged inside a transaction) touches
// the key in the shard's WatchRegistry before the key's lock is released; deleting an
// expired record does not (watch_registry.h says why). flush() touches the watched keys
// that existed.
//
// Durability: each LockedKey write is one engine write with the `sync` the caller gives
// (appendfsync always: true), acknowledged only after the engine acknowledged it, and the
// key's lock is held until then, so the next command on the key sees the new value.
// put_strings() writes several keys in one engine write (one WAL record, one sync) as a
// blind write (key_locks.h): it takes the keys' locks only to enter in order, so writers of
// one hot key share WAL syncs, and a LockedKey waits for it before reading.
//
// Calling rules: the owning shard's fibers only; open() before any other call; the Keyspace
// must be closed (close()) before it is destroyed, after every command using it has
// finished (close() stops the sweeper first).
#pragma once

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>
#include <string>
#include <string_view>

#include "engine/db.h"
#include "src/runtime/event.h"
#include "src/runtime/mutex.h"
#include "src/runtime/result.h"
#include "src/runtime/wait_group.h"
#include "src/types/database_ids.h"
#include "src/types/key_locks.h"
#include "src/types/key_record.h"
#include "src/types/keyspace_filter.h"
#include "src/types/probe_ranges.h"
#include "src/types/scan_positions.h"
#include "src/types/staged_writes.h"
#include "src/types/watch_registry.h"

namespace cascade::types {

// A live (not expired) metadata record read from the engine, owning its bytes.
struct StoredRecord {
  std::string bytes;  // the encoded record
  KeyType type = KeyType::kString;
  std::optional<std::int64_t> expire_ms;
  std::size_t payload_offset = 0;
  bool raw_string = false;  // a string modified in place (key_record.h, flags bit 1)

  std::string_view payload() const { return std::string_view(bytes).substr(payload_offset); }
  // The payload as its own string (the record is left empty).
  std::string take_payload();
};

class Keyspace {
 public:
  // `filter`, when given, is the compaction filter `db` was opened with (keyspace_filter.h):
  // it must outlive the engine, so the keyspace keeps it and the sweeper serves it.
  explicit Keyspace(std::unique_ptr<engine::DB> db, std::unique_ptr<KeyspaceFilter> filter = nullptr)
      : filter_(std::move(filter)), db_(std::move(db)) {}
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  // Loads the database ids; then starts the background sweeper (a kBackground fiber).
  Status open();

  // The number of databases (the server's `databases`): active expiry visits databases
  // 0 to count - 1. Before open(); 16, as Redis, unless set.
  void set_database_count(std::uint32_t count) { database_count_ = count; }
  std::uint32_t database_count() const { return database_count_; }

  // The live record of `key` in database `db` at `now_ms`; nullopt if missing or expired.
  Result<std::optional<StoredRecord>> read(std::uint32_t db, std::string_view key,
                                           std::int64_t now_ms);

  // A hint before reading several keys of `db` (a pipeline's GETs): the engine brings the
  // memtables' paths to their records into the cache together (engine::DB::prefetch).
  // At most engine::BTree::kMaxPrefetch keys are used; never suspends, changes nothing.
  // `written[i]`: keys[i] is then written (INCR, APPEND): its insert path is fetched too.
  void prefetch(std::uint32_t db, std::span<const std::string_view> keys,
                std::bitset<engine::BTree::kMaxPrefetch> written = {}) const;

  // The engine key of `key` in database `db` (under the database's current id).
  std::string engine_key(std::uint32_t db, std::string_view key) const {
    return metadata_key(ids_.id_of(db), key);
  }

  // Overwrites each key with a string value (with its expiry, if any), as one engine write
  // (synced if `sync`): a run of plain SETs shares one WAL record and one sync. The keys'
  // stripes are taken in ascending order (key_locks.h: no deadlock), marked with a blind
  // write in flight and released before the write; the marks go when it is acknowledged.
  // The old records are not read: a plain SET replaces whatever was there. A key may
  // appear more than once; the last value wins. The keys' watches are touched after the
  // write, before the marks go (watch_registry.h).
  struct StringPut {
    std::string_view key;
    std::string_view value;
    std::optional<std::int64_t> expire_ms = std::nullopt;
  };
  Status put_strings(std::uint32_t db, std::span<const StringPut> puts, bool sync);

  // Empties the given databases: one write of new ids (synced if `sync`), then the old
  // keys are unreachable and the sweeper deletes them in the background.
  Status flush(std::span<const std::uint32_t> dbs, bool sync);

  engine::DB& engine() { return *db_; }
  // A collection version never used before on this shard (collection.h, "Versions"):
  // above every version handed out since open and, across restarts, ahead of the clock's
  // milliseconds times 1024, so it keeps growing as long as the clock does not go back.
  std::uint64_t new_version(std::int64_t now_ms) {
    const auto floor = static_cast<std::uint64_t>(now_ms) << 10;
    last_version_ = std::max(last_version_ + 1, floor);
    return last_version_;
  }
  KeyLocks& locks() { return locks_; }
  WatchRegistry& watches() { return watches_; }
  const DatabaseIds& ids() const { return ids_; }
  ScanPositions& scan_positions() { return scan_positions_; }
  ProbeRanges& probe_ranges() { return probe_ranges_; }
  Status close();

  // A write of database `db` under `id` (the id the writer read before it suspended) was
  // acknowledged. A flush that retired `id` meanwhile left the write unreachable (the
  // flush came first: the order Redis would give two overlapping commands), and the
  // sweeper may have swept `id` already: it is swept again.
  void note_write_under(std::uint32_t db, std::uint32_t id);

  // ---- for the sweeper (keyspace_sweeper.h) ---------------------------------------------
  std::vector<std::uint32_t>& retired_ids() { return retired_; }
  // Lists `id` for sweeping unless it is listed already.
  void retire_again(std::uint32_t id) {
    if (std::find(retired_.begin(), retired_.end(), id) == retired_.end()) retired_.push_back(id);
  }
  std::uint64_t expired_keys() const { return expired_keys_; }
  KeyspaceFilter* filter() { return filter_.get(); }
  void count_expired() { ++expired_keys_; }
  // Collection versions whose stale members the sweeper deleted.
  std::uint64_t dead_versions() const { return dead_versions_; }
  void count_dead_version() { ++dead_versions_; }
  // Deleted keys the active expiry walk stepped over: what its ticks cost beyond the live
  // records they examine.
  std::uint64_t expiry_tombstones_passed() const { return expiry_tombstones_passed_; }
  void count_expiry_tombstones(std::uint64_t n) { expiry_tombstones_passed_ += n; }
  bool closing() const { return closing_; }
  // Set by flush() and close(): the sweeper has work or must stop.
  runtime::Event& sweeper_wake() { return sweeper_wake_; }

 private:
  friend class LockedKey;
  Status touch_flushed_watches(std::span<const std::uint32_t> dbs);

  std::unique_ptr<KeyspaceFilter> filter_;  // before db_: destroyed after it
  std::unique_ptr<engine::DB> db_;
  KeyLocks locks_;
  WatchRegistry watches_;
  DatabaseIds ids_;
  ScanPositions scan_positions_;
  ProbeRanges probe_ranges_;
  runtime::Mutex flush_lock_;
  // put_strings()'s scratch, reused so a warm shard builds its batches without allocating.
  std::vector<std::size_t> put_stripes_;
  std::string put_key_;
  std::string put_record_;
  std::vector<std::uint32_t> retired_;  // ids whose keys the sweeper still has to delete
  std::uint64_t expired_keys_ = 0;
  std::uint64_t dead_versions_ = 0;
  std::uint64_t expiry_tombstones_passed_ = 0;
  std::uint32_t database_count_ = 16;
  std::uint64_t last_version_ = 0;
  bool closing_ = false;
  runtime::Event sweeper_wake_;
  runtime::WaitGroup sweeper_;
};

// One key under its lock: every read-modify-write command runs inside one.
//
// Reads and writes of the key's records go through a StagedWrites. A standalone LockedKey
// (the first constructor) takes the key's lock for its lifetime and owns its StagedWrites:
// put_string, set_expiry and erase are each committed at once (one engine write), and a
// collection command stages member writes and then calls commit(). Inside a transaction
// (the second constructor) the transaction already holds the key's lock and owns the
// StagedWrites of the key's shard: writes are only staged, and commit() does nothing: the
// transaction commits every key it wrote together.
//
// Early lock release (engine/db.h, "Write path"). A standalone LockedKey's reads see the
// unacknowledged writes of the key's previous holders, and its own last write (put_string,
// set_expiry, erase, commit) releases the stripe once the batch is in the engine's
// memtable, before waiting for the WAL: the next writer of a hot key reads it and joins
// the same WAL group instead of waiting one WAL write per command. The watches are touched
// before the stripe goes. Nothing may be read or written through the LockedKey after that
// last write (a second write is refused). `observed`, when given, receives the newest
// sequence its reads may have seen: the caller must DB::wait_visible() it before a reply
// built from those reads leaves (a command that wrote has waited for its own, later one).
class LockedKey {
 public:
  LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key, bool sync,
            engine::SequenceNumber* observed = nullptr);
  LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key, StagedWrites& shared);
  ~LockedKey() {
    if (observed_ != nullptr && own_) *observed_ = std::max(*observed_, own_->observed());
    if (guard_ != nullptr) guard_->release();
  }
  LockedKey(const LockedKey&) = delete;
  LockedKey& operator=(const LockedKey&) = delete;
 private:
  // `stripe` is KeyLocks::stripe_index(db, key), hashed once.
  LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key, std::size_t stripe,
            bool sync, engine::SequenceNumber* observed);

 public:

  // The key's live record, deleting an expired one (see the file comment).
  Result<std::optional<StoredRecord>> load(std::int64_t now_ms);
  // `raw_string`: the value was modified in place (key_record.h, flags bit 1).
  Status put_string(std::optional<std::int64_t> expire_ms, std::string_view value,
                    bool raw_string = false);
  // Rewrites `record` (as load() returned it) with another expiry, type, payload and
  // flags kept.
  Status set_expiry(const StoredRecord& record, std::optional<std::int64_t> expire_ms);
  Status erase();
  // Deletes the key's record if it has expired at `now_ms`; true if it did.
  Result<bool> erase_if_expired(std::int64_t now_ms);

  // For collections: the staged writes of this key's shard, the database's id here, and
  // the commit of everything staged (standalone only; see the class comment).
  StagedWrites& writes() { return *writes_; }
  std::uint32_t db_id() const { return db_id_; }
  Keyspace& keyspace() { return keyspace_; }
  // Collections (and set_expiry's callers) commit here; `changed` false for a command that
  // only staged an expired record's deletion, or records that leave the key's value as it
  // was (a sorted set's rank index built on demand): no change for WATCH.
  Status commit(bool changed = true);

 private:
  bool direct() const;
  Status erase_quietly();
  // The standalone key's last write (see the class comment); `changed` touches watches.
  Status write_last(engine::WriteBatch& batch, bool changed);
  void touch() { keyspace_.watches_.touch(db_, key_, writes_->exec_client()); }
  engine::WriteOptions write_options() const;

  Keyspace& keyspace_;
  runtime::Semaphore* guard_ = nullptr;  // null inside a transaction
  std::optional<StagedWrites> own_;
  StagedWrites* writes_ = nullptr;
  std::uint32_t db_ = 0;
  std::string_view key_;  // the caller's key, alive for the LockedKey's lifetime
  std::uint32_t db_id_ = 0;
  std::string engine_key_;
  bool sync_ = false;
  bool released_ = false;  // the last write released the stripe
  engine::SequenceNumber* observed_ = nullptr;
};

}  // namespace cascade::types
