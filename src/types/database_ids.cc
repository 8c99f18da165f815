// See database_ids.h for the records.
#include "src/types/database_ids.h"

#include <algorithm>

#include "engine/format/coding.h"

namespace cascade::types {
namespace {

void put_u32_be(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

}  // namespace

std::uint32_t engine_key_id(std::string_view engine_key) {
  if (engine_key.size() < 4) return DatabaseIds::kSystemId;
  std::uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id = (id << 8) | static_cast<std::uint8_t>(engine_key[i]);
  return id;
}

std::string DatabaseIds::system_prefix() {
  std::string out;
  put_u32_be(out, kSystemId);
  out.push_back('\0');
  return out;
}

std::string DatabaseIds::assignment_key(std::uint32_t db) {
  std::string out = system_prefix();
  out.push_back('d');
  put_u32_be(out, db);
  return out;
}

std::string DatabaseIds::counter_key() { return system_prefix() + "n"; }

Status DatabaseIds::load(engine::DB& engine) {
  const std::string prefix = system_prefix() + "d";
  engine::ReadOptions options;
  options.prefix = prefix;
  std::unique_ptr<engine::DBIterator> it = engine.iterator(options);
  for (it->seek_to_first(); it->valid(); it->next()) {
    std::string_view key = it->key();
    std::string_view value = it->value();
    if (key.size() != prefix.size() + 4 || value.size() != 4) {
      return Status::corruption("malformed database id record");
    }
    const std::uint32_t db = engine_key_id(key.substr(prefix.size()));
    const std::uint32_t id = engine::load_fixed32(value.data());
    mapped_[db] = id;
    reverse_[id] = db;
  }
  current_valid_ = false;
  if (Status s = it->status(); !s) return s;
  Result<std::optional<std::string>> counter = engine.get(counter_key());
  if (!counter) return counter.error();
  if (counter->has_value()) {
    if ((*counter)->size() != 4) return Status::corruption("malformed database id counter");
    next_id_ = engine::load_fixed32((*counter)->data());
  }
  return Status::ok();
}

std::uint32_t DatabaseIds::id_of(std::uint32_t db) const {
  auto it = mapped_.find(db);
  return it == mapped_.end() ? db : it->second;
}

const std::vector<std::uint32_t>& DatabaseIds::current_ids(std::uint32_t count) const {
  if (current_valid_ && current_count_ == count) return current_;
  current_.clear();
  current_.reserve(count);
  for (std::uint32_t db = 0; db < count; ++db) current_.push_back(id_of(db));
  std::sort(current_.begin(), current_.end());
  current_count_ = count;
  current_valid_ = true;
  return current_;
}

std::optional<std::uint32_t> DatabaseIds::database_of(std::uint32_t id) const {
  if (id == kSystemId) return std::nullopt;
  if (id >= kFirstAllocated) {
    auto it = reverse_.find(id);
    if (it == reverse_.end()) return std::nullopt;
    return it->second;
  }
  if (mapped_.count(id) != 0) return std::nullopt;
  return id;
}

DatabaseIds::Assignment DatabaseIds::reassign(std::span<const std::uint32_t> dbs,
                                              engine::WriteBatch& batch) {
  Assignment assignment;
  std::string value;
  for (std::uint32_t db : dbs) {
    const std::uint32_t id = next_id_++;
    value.clear();
    engine::put_fixed32(value, id);
    batch.put(assignment_key(db), value);
    assignment.emplace_back(db, id);
  }
  value.clear();
  engine::put_fixed32(value, next_id_);
  batch.put(counter_key(), value);
  return assignment;
}

std::vector<std::uint32_t> DatabaseIds::commit(const Assignment& assignment) {
  std::vector<std::uint32_t> retired;
  for (const auto& [db, id] : assignment) {
    const std::uint32_t old = id_of(db);
    retired.push_back(old);
    reverse_.erase(old);
    mapped_[db] = id;
    reverse_[id] = db;
  }
  current_valid_ = false;
  return retired;
}

}  // namespace cascade::types
