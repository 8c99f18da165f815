// See keyspace.h.
#include "src/types/keyspace.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "src/runtime/scheduler.h"
#include "src/runtime/small_buffer.h"
#include "src/types/keyspace_sweeper.h"

namespace cascade::types {

std::size_t KeyLocks::stripe_index(std::uint32_t db, std::string_view key) {
  return (std::hash<std::string_view>{}(key) ^ (std::size_t{db} * 0x9E3779B97F4A7C15ull)) %
         kStripes;
}

std::string StoredRecord::take_payload() {
  bytes.erase(0, payload_offset);
  payload_offset = 0;
  return std::move(bytes);
}

namespace {

// Decodes a fetched metadata record; nullopt (and `expired` set) when it has expired.
Result<std::optional<StoredRecord>> decode_fetched(Result<std::optional<std::string>> got,
                                                   std::int64_t now_ms, bool& expired) {
  expired = false;
  if (!got) return got.error();
  if (!got->has_value()) return std::optional<StoredRecord>();
  StoredRecord record;
  record.bytes = std::move(**got);
  Result<RecordView> view = decode_record(record.bytes);
  if (!view) return view.error();
  if (view->expired_at(now_ms)) {
    expired = true;
    return std::optional<StoredRecord>();
  }
  record.type = view->type;
  record.expire_ms = view->expire_ms;
  record.payload_offset = record.bytes.size() - view->payload.size();
  record.raw_string = view->raw_string;
  return std::optional<StoredRecord>(std::move(record));
}

std::int64_t watch_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void Keyspace::prefetch(std::uint32_t db, std::span<const std::string_view> keys,
                        std::bitset<engine::BTree::kMaxPrefetch> written) const {
  const std::size_t n = std::min(keys.size(), engine::BTree::kMaxPrefetch);
  if (n < 2) return;
  // The engine keys side by side in one buffer, sized first so the views stay valid.
  const std::uint32_t id = ids_.id_of(db);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) bytes += kMetadataKeyPrefix + keys[i].size();
  std::string buffer;
  buffer.reserve(bytes);
  std::string_view engine_keys[engine::BTree::kMaxPrefetch];
  std::string_view written_keys[engine::BTree::kMaxPrefetch];
  std::size_t writes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t start = buffer.size();
    append_metadata_key(buffer, id, keys[i]);
    engine_keys[i] = std::string_view(buffer).substr(start);
    if (written[i]) written_keys[writes++] = engine_keys[i];
  }
  db_->prefetch(std::span<const std::string_view>(engine_keys, n),
                std::span<const std::string_view>(written_keys, writes));
}

Result<std::optional<StoredRecord>> Keyspace::read(std::uint32_t db, std::string_view key,
                                                   std::int64_t now_ms) {
  bool expired = false;
  // A GET's key is built on the stack: no allocation for a client key of up to 123 bytes.
  runtime::SmallBuffer<128> ekey;
  encode_metadata_key(ekey.prepare(kMetadataKeyPrefix + key.size()), ids_.id_of(db), key);
  return decode_fetched(db_->get(ekey.view()), now_ms, expired);
}

Status Keyspace::open() {
  if (Status s = ids_.load(*db_); !s) return s;
  start_sweeper(*this, sweeper_);
  return Status::ok();
}

Status Keyspace::close() {
  closing_ = true;
  sweeper_wake_.set();
  sweeper_.wait();
  return db_->close();
}

// Before the new ids: the watched keys that exist now are the ones the flush changes.
Status Keyspace::touch_flushed_watches(std::span<const std::uint32_t> dbs) {
  if (watches_.empty()) return Status::ok();
  const std::int64_t now_ms = watch_clock_ms();
  for (std::uint32_t db : dbs) {
    for (const std::string& key : watches_.watched_in(db)) {
      auto record = read(db, key, now_ms);
      if (!record) return record.error();
      if (record->has_value()) watches_.touch(db, key);
    }
  }
  return Status::ok();
}

void Keyspace::note_write_under(std::uint32_t db, std::uint32_t id) {
  if (ids_.id_of(db) == id) return;
  retire_again(id);
  sweeper_wake_.set();
}

Status Keyspace::flush(std::span<const std::uint32_t> dbs, bool sync) {
  runtime::Mutex& guard = flush_lock_;
  guard.lock();
  if (Status t = touch_flushed_watches(dbs); !t) {
    guard.unlock();
    return t;
  }
  engine::WriteBatch batch;
  DatabaseIds::Assignment assignment = ids_.reassign(dbs, batch);
  engine::WriteOptions options;
  options.sync = sync;
  Status s = db_->write(batch, options);
  if (s) {
    for (std::uint32_t id : ids_.commit(assignment)) retired_.push_back(id);
    sweeper_wake_.set();
  }
  guard.unlock();
  return s;
}

Status Keyspace::put_strings(std::uint32_t db, std::span<const StringPut> puts, bool sync) {
  // The scratch strings are only used between suspensions (a large value's copy yields
  // after they are used up), and the stripe list is moved out for the call (a concurrent
  // call finds it empty and allocates its own).
  std::vector<std::size_t> stripes;
  stripes.swap(put_stripes_);
  stripes.clear();
  for (const StringPut& put : puts) stripes.push_back(KeyLocks::stripe_index(db, put.key));
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());

  engine::WriteBatch batch;
  const std::uint32_t id = ids_.id_of(db);
  for (const StringPut& put : puts) {
    put_key_.clear();
    append_metadata_key(put_key_, id, put.key);
    put_record_.clear();
    append_string_record(put_record_, put.expire_ms, {});  // the header: the value follows
    // A large value is copied in pieces, the thread going to the shard's other fibers
    // between them; the scratch strings are used up before that.
    batch.put_joined(put_key_, put_record_, put.value, runtime::this_fiber::yield_if_on_fiber);
  }
  for (std::size_t stripe : stripes) locks_.stripe(stripe).acquire();
  for (std::size_t stripe : stripes) {
    locks_.begin_blind_write(stripe);
    locks_.stripe(stripe).release();
  }
  engine::WriteOptions options;
  options.sync = sync;
  Status s = db_->write(batch, options);
  // Touched while the stripes are still marked blind: an EXEC taking them waits for the
  // mark to clear, so it never checks a watch this write has yet to touch.
  if (s) {
    for (const StringPut& put : puts) watches_.touch(db, put.key);
    note_write_under(db, id);  // a large value's copy and compression yield
  }
  for (std::size_t stripe : stripes) locks_.end_blind_write(stripe);
  stripes.swap(put_stripes_);  // keep the larger capacity for the next call
  return s;
}

LockedKey::LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key, bool sync,
                     engine::SequenceNumber* observed)
    : LockedKey(keyspace, db, key, KeyLocks::stripe_index(db, key), sync, observed) {}

LockedKey::LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key,
                     std::size_t stripe, bool sync, engine::SequenceNumber* observed)
    : keyspace_(keyspace), guard_(&keyspace.locks().stripe(stripe)), db_(db), key_(key),
      db_id_(keyspace.ids().id_of(db)), engine_key_(metadata_key(db_id_, key)), sync_(sync),
      observed_(observed) {
  own_.emplace(*keyspace.db_);
  writes_ = &*own_;
  guard_->acquire();
  keyspace.locks().wait_for_blind_writes(stripe);
}

LockedKey::LockedKey(Keyspace& keyspace, std::uint32_t db, std::string_view key,
                     StagedWrites& shared)
    : keyspace_(keyspace), writes_(&shared), db_(db), key_(key), db_id_(keyspace.ids().id_of(db)),
      engine_key_(metadata_key(db_id_, key)) {}

// Inside a transaction the write is only staged, but the transaction holds the key's
// stripe until it has committed, so touching now is as exact as touching after the commit.
Status LockedKey::commit(bool changed) {
  if (!own_) {
    if (changed) touch();
    return Status::ok();
  }
  if (own_->empty()) {  // a change Redis signals though nothing is written (LTRIM 0 -1)
    if (changed) touch();
    return Status::ok();
  }
  engine::WriteBatch batch;
  own_->append_to(batch);
  own_->clear();
  if (!changed) {  // an expired record's deletion or a rank index's build (keyspace.h)
    if (released_) return Status::invalid_argument("a key written after its last write");
    Status s = keyspace_.db_->write(batch, write_options());
    if (s) keyspace_.note_write_under(db_, db_id_);
    return s;
  }
  return write_last(batch, true);
}

Status LockedKey::write_last(engine::WriteBatch& batch, bool changed) {
  if (released_) return Status::invalid_argument("a key written after its last write");
  Result<engine::PendingWrite> pending = keyspace_.db_->begin_write(batch, write_options());
  if (!pending) return pending.error();
  if (changed && pending->status) touch();
  released_ = true;
  {
    // The key's next holder runs in this round, before this write's WAL group is written
    // at the round's end (wal_writer.h, "Group commit"), so its write joins the group.
    runtime::Scheduler::WakeInRound in_round;
    guard_->release();
  }
  guard_ = nullptr;
  Status s = keyspace_.db_->finish_write(*pending);
  if (s) keyspace_.note_write_under(db_, db_id_);
  return s;
}

Result<std::optional<StoredRecord>> LockedKey::load(std::int64_t now_ms) {
  bool expired = false;
  Result<std::optional<StoredRecord>> record =
      decode_fetched(writes_->get(engine_key_), now_ms, expired);
  if (record && expired) {
    if (Status s = erase_quietly(); !s) return s;
    keyspace_.count_expired();
  }
  return record;
}

// A standalone key with nothing else staged writes straight to the engine (the common
// case: SET, INCR, DEL of a string), without building the staged map.
bool LockedKey::direct() const { return own_ && own_->empty(); }

engine::WriteOptions LockedKey::write_options() const {
  engine::WriteOptions options;
  options.sync = sync_;
  return options;
}

Status LockedKey::put_string(std::optional<std::int64_t> expire_ms, std::string_view value,
                             bool raw_string) {
  if (direct()) {
    engine::WriteBatch batch;
    batch.put(engine_key_, string_record(expire_ms, value, raw_string));
    return write_last(batch, true);
  }
  writes_->put(engine_key_, string_record(expire_ms, value, raw_string));
  return commit();
}

Status LockedKey::set_expiry(const StoredRecord& record, std::optional<std::int64_t> expire_ms) {
  std::string bytes;
  bytes.reserve(10 + record.payload().size());
  append_record(bytes, record.type, expire_ms, record.payload(), record.raw_string);
  if (direct()) {
    engine::WriteBatch batch;
    batch.put(engine_key_, bytes);
    return write_last(batch, true);
  }
  writes_->put(engine_key_, bytes);
  return commit();
}

Status LockedKey::erase() {
  if (direct()) {
    engine::WriteBatch batch;
    batch.del(engine_key_);
    return write_last(batch, true);
  }
  writes_->del(engine_key_);
  return commit();
}

// The deletion without a touch: an expired record's (see keyspace.h). The command may
// write the key next, so the stripe stays held.
Status LockedKey::erase_quietly() {
  if (released_) return Status::invalid_argument("a key written after its last write");
  if (direct()) return keyspace_.db_->del(engine_key_, write_options());
  writes_->del(engine_key_);
  return commit(false);
}

Result<bool> LockedKey::erase_if_expired(std::int64_t now_ms) {
  bool expired = false;
  Result<std::optional<StoredRecord>> record =
      decode_fetched(writes_->get(engine_key_), now_ms, expired);
  if (!record) return record.error();
  if (!expired) return false;
  if (Status s = erase_quietly(); !s) return s;
  return true;
}

}  // namespace cascade::types
