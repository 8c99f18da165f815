// See multi_shard_recovery.h.
#include "src/server/multi_shard_recovery.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "engine/write_batch.h"
#include "src/server/server_state.h"
#include "src/types/multi_shard_log.h"

namespace cascade::server {
namespace {

struct ShardRecords {
  std::vector<types::Decision> decisions;
  std::vector<std::string> keys;  // every key of the scanned kind
  std::uint64_t max_txid = 0;
};

// On a shard: the records under `prefix`, decoded as decisions when `decode` is set.
Result<ShardRecords> scan(engine::DB& db, const std::string& prefix, bool decode) {
  ShardRecords out;
  engine::ReadOptions options;
  options.prefix = prefix;
  std::unique_ptr<engine::DBIterator> it = db.iterator(options);
  for (it->seek_to_first(); it->valid(); it->next()) out.keys.emplace_back(it->key());
  if (Status s = it->status(); !s) return s;
  for (const std::string& key : out.keys) {
    if (!decode) {
      Result<std::uint64_t> txid = types::marker_txid(key);
      if (!txid) return txid.error();
      out.max_txid = std::max(out.max_txid, *txid);
      continue;
    }
    // Read through get(): a large record may live in the value log.
    Result<std::optional<std::string>> value = db.get(key);
    if (!value) return value.error();
    if (!*value) continue;
    Result<types::Decision> decision = types::decode_decision(**value);
    if (!decision) return decision.error();
    out.max_txid = std::max(out.max_txid, decision->txid);
    out.decisions.push_back(std::move(*decision));
  }
  return out;
}

engine::DB* this_engine(ServerState& state) {
  types::Keyspace* keyspace = state.this_shard().keyspace();
  return keyspace == nullptr ? nullptr : &keyspace->engine();
}

Status delete_keys(engine::DB& db, const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::ok();
  engine::WriteBatch batch;
  for (const std::string& key : keys) batch.del(key);
  engine::WriteOptions options;
  options.sync = true;
  return db.write(batch, options);
}

// On the part's shard: writes it with its marker unless the marker is there. Sets `applied`.
Status apply_part(engine::DB& db, const types::Decision& decision, const types::ShardPart& part,
                  bool& applied) {
  const std::string marker = types::applied_marker_key(decision.coordinator, decision.txid);
  Result<std::optional<std::string>> present = db.get(marker);
  if (!present) return present.error();
  applied = !present->has_value();
  if (!applied) return Status::ok();
  Result<engine::WriteBatch> batch = engine::WriteBatch::from_contents(part.batch);
  if (!batch) return batch.error();
  batch->put(marker, {});
  engine::WriteOptions options;
  options.sync = true;
  options.decided = true;  // the decision stands: a full disk must not refuse the part
  return db.write(*batch, options);
}

// Runs fn(engine) -> Status on every shard; the first failure.
template <typename Fn>
Status on_each_engine(ServerState& state, const Fn& fn) {
  for (Status& s : state.runtime().run_on_each([&state, &fn]() -> Status {
         engine::DB* db = this_engine(state);
         if (db == nullptr) return Status::shutdown("shard storage is closed");
         return fn(*db);
       })) {
    if (!s) return s;
  }
  return Status::ok();
}

}  // namespace

Status recover_multi_shard_writes(ServerState& state) {
  const std::size_t n = state.shard_count();
  std::vector<ShardRecords> decisions(n);
  std::uint64_t max_txid = 0;
  Status s = on_each_engine(state, [&](engine::DB& db) -> Status {
    Result<ShardRecords> found = scan(db, types::decision_prefix(), true);
    if (!found) return found.error();
    Result<ShardRecords> markers = scan(db, types::applied_marker_prefix(), false);
    if (!markers) return markers.error();
    found->max_txid = std::max(found->max_txid, markers->max_txid);
    decisions[runtime::this_shard_id()] = std::move(*found);
    return Status::ok();
  });
  if (!s) return s;

  std::vector<const types::Decision*> pending;
  for (const ShardRecords& shard : decisions) {
    max_txid = std::max(max_txid, shard.max_txid);
    for (const types::Decision& d : shard.decisions) pending.push_back(&d);
  }
  std::sort(pending.begin(), pending.end(),
            [](const types::Decision* a, const types::Decision* b) { return a->txid < b->txid; });
  std::size_t applied_parts = 0;
  std::size_t writes = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const types::Decision* d = pending[i];
    // One record per write is enough: a copy's holder has its own part (same batch), and
    // the copy lists every other. The other copies of the write name the same parts.
    if (i > 0 && pending[i - 1]->txid == d->txid) continue;
    ++writes;
    for (const types::ShardPart& part : d->parts) {
      if (part.shard >= n) return Status::corruption("decision names a shard that does not exist");
      bool applied = false;
      Status a = state.runtime().submit(part.shard, [&]() -> Status {
        engine::DB* db = this_engine(state);
        if (db == nullptr) return Status::shutdown("shard storage is closed");
        return apply_part(*db, *d, part, applied);
      }).get();
      if (!a) return a;
      if (applied) ++applied_parts;
    }
  }

  s = on_each_engine(state, [&](engine::DB& db) {
    return delete_keys(db, decisions[runtime::this_shard_id()].keys);
  });
  if (!s) return s;
  std::atomic<std::size_t> markers_left{0};
  s = on_each_engine(state, [&markers_left](engine::DB& db) -> Status {
    Result<ShardRecords> markers = scan(db, types::applied_marker_prefix(), false);
    if (!markers) return markers.error();
    markers_left += markers->keys.size();
    return delete_keys(db, markers->keys);
  });
  if (!s) return s;

  using namespace std::chrono;
  const auto now_us = static_cast<std::uint64_t>(
      duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
  state.start_transaction_ids_at(std::max(max_txid + 1, now_us));
  if (!pending.empty()) {
    state.logger().notice("Finished {} interrupted multi-shard writes ({} parts applied)",
                          writes, applied_parts);
  }
  if (markers_left > 0) {
    state.logger().notice("Deleted {} applied markers of multi-shard writes", markers_left.load());
  }
  return Status::ok();
}

}  // namespace cascade::server
