// See keyspace_sweeper.h.
#include "src/types/keyspace_sweeper.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/runtime/scheduler.h"
#include "src/types/collection.h"
#include "src/types/keyspace.h"

namespace cascade::types {
namespace {

constexpr std::size_t kYieldEvery = 128;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string id_prefix(std::uint32_t id) {
  return {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
          static_cast<char>(id)};
}

// Retires every id present in the engine that no database maps to.
Status find_garbage_ids(Keyspace& keyspace) {
  engine::ReadOptions options;
  const std::string system = DatabaseIds::system_prefix();
  options.upper_bound = system;
  options.resolve_values = false;  // keys only
  std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
  for (it->seek_to_first(); it->valid() && !keyspace.closing();) {
    const std::uint32_t id = engine_key_id(it->key());
    if (!keyspace.ids().database_of(id)) keyspace.retired_ids().push_back(id);
    if (id + 1 >= DatabaseIds::kSystemId) break;
    it->seek(id_prefix(id + 1));
  }
  return it->status();
}

// Deletes every key starting with `prefix`, a batch at a time, unsynced (the keys are
// unreachable already: a crash loses nothing that matters, and the work is found again).
Status delete_prefix(Keyspace& keyspace, const std::string& prefix) {
  std::string from;
  while (!keyspace.closing()) {
    engine::ReadOptions options;
    options.prefix = prefix;
    options.resolve_values = false;  // keys only
    std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
    from.empty() ? it->seek_to_first() : it->seek(from);
    engine::WriteBatch batch;
    for (std::size_t n = 0; n < kPurgeBatch && it->valid(); ++n, it->next()) {
      batch.del(it->key());
      from.assign(it->key());
      from.push_back('\0');
    }
    if (Status s = it->status(); !s) return s;
    if (batch.count() == 0) return Status::ok();
    if (Status s = keyspace.engine().write(batch); !s) return s;
  }
  return Status::ok();
}

// The type and expiry of the record the iterator is on, from the tree alone: a record held
// in the value log has its header there (kRecordHeaderMaxSize, the pointer's head), so the
// walk reads no value. A pointer written without a head (before heads existed) is read
// whole, as every pointer was once.
Result<RecordView> record_header(Keyspace& keyspace, const engine::DBIterator& it,
                                 std::string& read) {
  if (std::optional<std::string_view> head = it.value_head()) return decode_record(*head);
  auto value = keyspace.engine().get(it.key());
  if (!value) return value.error();
  if (!*value) return Status::not_found("deleted since the walk's snapshot");
  read = std::move(**value);
  return decode_record(read);
}

// One tick of active expiry from `cursor` (an engine key; empty: the start).
//
// The walk visits the current id of each database (Keyspace::database_count), in id order,
// each through an iterator bounded to that id's metadata records. Anything wider would step
// over the members that follow the records, and a collection emptied by pops, or deleted,
// leaves a tombstone per member there until compaction: an unbounded walk passed every one
// of them on every tick (10% of a shard's time under redis-benchmark's RPOP on one list).
// A database without records counts as one record examined, so a tick stays bounded
// whatever the number of databases (a pass over a million empty databases takes a thousand
// ticks). Keys left in databases past the count (a restart with fewer `databases`) are
// unreachable and are not visited; compaction drops them once expired.
Status expire_step(Keyspace& keyspace, std::string& cursor) {
  const std::int64_t now = now_ms();
  std::vector<std::pair<std::uint32_t, std::string>> expired;  // db, key
  std::string read;
  // A copy: a flush while the walk suspends makes the keyspace's list anew.
  const std::vector<std::uint32_t> ids = keyspace.ids().current_ids(keyspace.database_count());
  auto next = cursor.empty() ? ids.begin()
                             : std::lower_bound(ids.begin(), ids.end(), engine_key_id(cursor));
  if (next == ids.end() || (!cursor.empty() && *next != engine_key_id(cursor))) cursor.clear();
  std::size_t examined = 0;
  for (; next != ids.end(); ++next) {
    if (examined >= kExpiryExamined) {
      if (cursor.empty()) cursor = id_prefix(*next);  // the next tick starts on this id
      break;
    }
    if (++examined % kYieldEvery == 0) runtime::Scheduler::current()->yield();
    engine::ReadOptions options;
    const std::string space = id_prefix(*next) + static_cast<char>(kMetadataSpace);
    options.prefix = space;
    options.resolve_values = false;  // headers only: record_header
    std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
    cursor.empty() ? it->seek_to_first() : it->seek(cursor);
    const std::optional<std::uint32_t> db = keyspace.ids().database_of(*next);
    while (it->valid() && examined < kExpiryExamined) {
      ++examined;
      // Records served from memory never suspend the fiber: yield now and then anyway.
      if (examined % kYieldEvery == 0) runtime::Scheduler::current()->yield();
      if (db) {
        Result<RecordView> record = record_header(keyspace, *it, read);
        if (record && record->expired_at(now)) {
          expired.emplace_back(*db, std::string(it->key().substr(kMetadataKeyPrefix)));
        }
      }
      it->next();
    }
    keyspace.count_expiry_tombstones(it->tombstones_passed());
    if (Status s = it->status(); !s) return s;
    if (it->valid()) {
      cursor.assign(it->key());
      break;
    }
    cursor.clear();
  }
  for (auto& [db, key] : expired) {
    LockedKey lock(keyspace, db, key, false);
    Result<bool> erased = lock.erase_if_expired(now);
    if (!erased) return erased.error();
    if (*erased) keyspace.count_expired();
  }
  return Status::ok();
}

// Checks up to kSuspectsPerTick collection versions the compaction filter queued: a
// version no metadata record names any more has its members deleted (keyspace_filter.h).
Status collect_dead_versions(Keyspace& keyspace) {
  KeyspaceFilter* filter = keyspace.filter();
  if (filter == nullptr) return Status::ok();
  const std::int64_t now = now_ms();
  for (std::size_t n = 0; n < kSuspectsPerTick && !keyspace.closing(); ++n) {
    std::optional<std::string> prefix = filter->take_suspect();
    if (!prefix) break;
    std::optional<MemberVersion> member = parse_member_key(*prefix);
    if (!member) continue;
    Result<std::optional<std::string>> meta =
        keyspace.engine().get(metadata_key(member->db_id, member->key));
    if (!meta) return meta.error();
    bool live = false;
    if (meta->has_value()) {
      Result<RecordView> record = decode_record(**meta);
      if (!record) continue;  // a damaged record: leave its members alone
      if (!record->expired_at(now) && is_collection(record->type)) {
        Result<CollectionHeader> header = decode_collection_payload(record->type, record->payload);
        live = !header || header->version == member->version;
      }
    }
    if (live) continue;
    filter->mark_dead(*prefix);
    if (Status s = delete_prefix(keyspace, *prefix); !s) return s;
    keyspace.count_dead_version();
  }
  return Status::ok();
}

void sweep(Keyspace& keyspace) {
  // Errors are not fatal here: the next tick retries, and reads hide expired keys anyway.
  (void)find_garbage_ids(keyspace);
  std::string cursor;
  while (!keyspace.closing()) {
    std::vector<std::uint32_t>& retired = keyspace.retired_ids();
    while (!retired.empty() && !keyspace.closing()) {
      // Taken off first: a late write under it (Keyspace::note_write_under) while the
      // prefix is deleted puts it back, to be swept again.
      const std::uint32_t id = retired.back();
      retired.pop_back();
      if (Status s = delete_prefix(keyspace, id_prefix(id)); !s) {
        keyspace.retire_again(id);
        break;
      }
    }
    if (keyspace.closing()) break;
    (void)expire_step(keyspace, cursor);
    if (keyspace.closing()) break;
    (void)collect_dead_versions(keyspace);
    (void)keyspace.sweeper_wake().wait_for(kSweepTick);
    keyspace.sweeper_wake().reset();
  }
}

}  // namespace

void start_sweeper(Keyspace& keyspace, runtime::WaitGroup& running) {
  running.add();
  runtime::SpawnOptions spawn;
  spawn.priority = runtime::Priority::kBackground;
  spawn.name = "keyspace-sweeper";
  runtime::Scheduler::current()->spawn(
      [&keyspace, &running] {
        sweep(keyspace);
        running.done();
      },
      spawn);
}

}  // namespace cascade::types
