// Keyspace: one shard's Redis keys on its engine: reading a key's metadata record (with
// lazy expiry), and LockedKey, the read-modify-write session a write command runs in.
//
// Expiry is lazy: a record whose expiry has passed reads as missing. A write command
// (LockedKey::load) that finds one deletes it on the spot, under the key's lock, so the
// next write to an expired key removes it even when the command itself writes nothing
// (DEL or EXPIRE of an expired key). Active expiry is keyspace_sweeper.h; dropping expired
// records in compaction is later work.
//
// Databases: every engine key starts with its database's current id (database_ids.h), so
// flush() empties databases with one small write; the sweeper deletes the retired keys.
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
#include "src/types/scan_positions.h"

namespace cascade::types {

// A live (not expired) metadata record read from the engine, owning its bytes.
struct StoredRecord {
  std::string bytes;  // the encoded record
  KeyType type = KeyType::kString;
  std::optional<std::int64_t> expire_ms;
  std::size_t payload_offset = 0;

  std::string_view payload() const { return std::string_view(bytes).substr(payload_offset); }
  // The payload as its own string (the record is left empty).
  std::string take_payload();
};

class Keyspace {
 public:
  explicit Keyspace(std::unique_ptr<engine::DB> db) : db_(std::move(db)) {}
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  // Loads the database ids; then starts the background sweeper (a kBackground fiber).
  Status open();

  // The live record of `key` in database `db` at `now_ms`; nullopt if missing or expired.
  Result<std::optional<StoredRecord>> read(std::uint32_t db, std::string_view key,
                                           std::int64_t now_ms);

  // The engine key of `key` in database `db` (under the database's current id).
  std::string engine_key(std::uint32_t db, std::string_view key) const {
    return metadata_key(ids_.id_of(db), key);
  }

  // Overwrites each key with a string value (with its expiry, if any), as one engine write
  // (synced if `sync`): a run of plain SETs shares one WAL record and one sync. The keys'
  // stripes are taken in ascending order (key_locks.h: no deadlock), marked with a blind
  // write in flight and released before the write; the marks go when it is acknowledged.
  // The old records are not read: a plain SET replaces whatever was there. A key may
  // appear more than once; the last value wins.
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
  KeyLocks& locks() { return locks_; }
  const DatabaseIds& ids() const { return ids_; }
  ScanPositions& scan_positions() { return scan_positions_; }
  Status close();

  // ---- for the sweeper (keyspace_sweeper.h) ---------------------------------------------
  std::vector<std::uint32_t>& retired_ids() { return retired_; }
  std::uint64_t expired_keys() const { return expired_keys_; }
  void count_expired() { ++expired_keys_; }
  bool closing() const { return closing_; }
  // Set by flush() and close(): the sweeper has work or must stop.
  runtime::Event& sweeper_wake() { return sweeper_wake_; }

 private:
  friend class LockedKey;
  // Like read(), also telling whether an expired record is present.
  Result<std::optional<StoredRecord>> read_raw(const std::string& engine_key,
                                               std::int64_t now_ms, bool& expired);

  std::unique_ptr<engine::DB> db_;
  KeyLocks locks_;
  DatabaseIds ids_;
  ScanPositions scan_positions_;
  runtime::Mutex flush_lock_;
  // put_strings()'s scratch, reused so a warm shard builds its batches without allocating.
  std::vector<std::size_t> put_stripes_;
  std::string put_key_;
  std::string put_record_;
  std::vector<std::uint32_t> retired_;  // ids whose keys the sweeper still has to delete
  std::uint64_t expired_keys_ = 0;
  bool closing_ = false;
  runtime::Event sweeper_wake_;
  runtime::WaitGroup sweeper_;
};

// Holds one key's lock for its lifetime; every read-modify-write command runs inside one.
class LockedKey {
 public:
  LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key, bool sync);
  ~LockedKey() { guard_.release(); }
  LockedKey(const LockedKey&) = delete;
  LockedKey& operator=(const LockedKey&) = delete;

  // The key's live record, deleting an expired one (see the file comment).
  Result<std::optional<StoredRecord>> load(std::int64_t now_ms);
  Status put_string(std::optional<std::int64_t> expire_ms, std::string_view value);
  // Rewrites `record` (as load() returned it) with another expiry, type and payload kept.
  Status set_expiry(const StoredRecord& record, std::optional<std::int64_t> expire_ms);
  Status erase();
  // Deletes the key's record if it has expired at `now_ms`; true if it did.
  Result<bool> erase_if_expired(std::int64_t now_ms);

 private:
  Keyspace& keyspace_;
  runtime::Semaphore& guard_;
  std::string engine_key_;
  engine::WriteOptions options_;
};

}  // namespace cascade::types
