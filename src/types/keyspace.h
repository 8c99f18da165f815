// Keyspace: one shard's Redis keys on its engine: reading a key's metadata record (with
// lazy expiry), and LockedKey, the read-modify-write session a write command runs in.
//
// Expiry is lazy: a record whose expiry has passed reads as missing. A write command
// (LockedKey::load) that finds one deletes it on the spot, under the key's lock, so the
// next write to an expired key removes it even when the command itself writes nothing
// (DEL or EXPIRE of an expired key). Active and compaction-time expiry are later work.
//
// Durability: each LockedKey write is one engine write with the `sync` the caller gives
// (appendfsync always: true), acknowledged only after the engine acknowledged it, and the
// key's lock is held until then, so the next command on the key sees the new value.
//
// Calling rules: the owning shard's fibers only; the Keyspace must be closed (close())
// before it is destroyed, after every command using it has finished.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/db.h"
#include "src/runtime/result.h"
#include "src/types/key_locks.h"
#include "src/types/key_record.h"

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

  // The live record of `key` in database `db` at `now_ms`; nullopt if missing or expired.
  Result<std::optional<StoredRecord>> read(std::uint32_t db, std::string_view key,
                                           std::int64_t now_ms);

  engine::DB& engine() { return *db_; }
  KeyLocks& locks() { return locks_; }
  Status close() { return db_->close(); }

 private:
  friend class LockedKey;
  // Like read(), also telling whether an expired record is present.
  Result<std::optional<StoredRecord>> read_raw(const std::string& engine_key,
                                               std::int64_t now_ms, bool& expired);

  std::unique_ptr<engine::DB> db_;
  KeyLocks locks_;
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

 private:
  Keyspace& keyspace_;
  runtime::Semaphore& guard_;
  std::string engine_key_;
  engine::WriteOptions options_;
};

}  // namespace cascade::types
