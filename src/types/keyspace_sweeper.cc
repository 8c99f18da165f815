// See keyspace_sweeper.h.
#include "src/types/keyspace_sweeper.h"

#include <string>
#include <utility>
#include <vector>

#include "src/runtime/scheduler.h"
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
  std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
  for (it->seek_to_first(); it->valid() && !keyspace.closing();) {
    const std::uint32_t id = engine_key_id(it->key());
    if (!keyspace.ids().database_of(id)) keyspace.retired_ids().push_back(id);
    if (id + 1 >= DatabaseIds::kSystemId) break;
    it->seek(id_prefix(id + 1));
  }
  return it->status();
}

// Deletes every key under `id`, a batch at a time.
Status purge_id(Keyspace& keyspace, std::uint32_t id) {
  const std::string prefix = id_prefix(id);
  std::string from;
  while (!keyspace.closing()) {
    engine::ReadOptions options;
    options.prefix = prefix;
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

// One tick of active expiry from `cursor` (an engine key; empty: the start).
Status expire_step(Keyspace& keyspace, std::string& cursor) {
  const std::int64_t now = now_ms();
  std::vector<std::pair<std::uint32_t, std::string>> expired;  // db, key
  {
    engine::ReadOptions options;
    const std::string system = DatabaseIds::system_prefix();
    options.upper_bound = system;
    std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
    cursor.empty() ? it->seek_to_first() : it->seek(cursor);
    std::size_t examined = 0;
    for (; it->valid() && examined < kExpiryExamined; it->next(), ++examined) {
      // Records served from memory never suspend the fiber: yield now and then anyway.
      if (examined % kYieldEvery == kYieldEvery - 1) runtime::Scheduler::current()->yield();
      const std::string_view key = it->key();
      if (key.size() < kMetadataKeyPrefix || key[4] != static_cast<char>(kMetadataSpace)) continue;
      const std::optional<std::uint32_t> db = keyspace.ids().database_of(engine_key_id(key));
      if (!db) continue;  // retired: the purge deletes it
      Result<RecordView> record = decode_record(it->value());
      if (record && record->expired_at(now)) {
        expired.emplace_back(*db, std::string(key.substr(kMetadataKeyPrefix)));
      }
    }
    if (Status s = it->status(); !s) return s;
    if (it->valid()) {
      cursor.assign(it->key());
    } else {
      cursor.clear();  // wrap around
    }
  }
  for (auto& [db, key] : expired) {
    LockedKey lock(keyspace, db, key, false);
    Result<bool> erased = lock.erase_if_expired(now);
    if (!erased) return erased.error();
    if (*erased) keyspace.count_expired();
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
      const std::uint32_t id = retired.back();
      if (Status s = purge_id(keyspace, id); !s) break;
      std::erase(retired, id);
    }
    if (keyspace.closing()) break;
    (void)expire_step(keyspace, cursor);
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
