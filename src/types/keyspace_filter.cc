// See keyspace_filter.h.
#include "src/types/keyspace_filter.h"

#include <chrono>

#include "src/types/collection.h"
#include "src/types/database_ids.h"
#include "src/types/key_record.h"

namespace cascade::types {
namespace {

std::int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::uint32_t load_u32_be(std::string_view bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[i]);
  return v;
}

}  // namespace

std::optional<MemberVersion> parse_member_key(std::string_view engine_key) {
  if (engine_key.size() < 9 || engine_key[4] != static_cast<char>(kMemberSpace)) {
    return std::nullopt;
  }
  MemberVersion m;
  m.db_id = load_u32_be(engine_key);
  if (m.db_id == DatabaseIds::kSystemId) return std::nullopt;
  const std::uint32_t key_length = load_u32_be(engine_key.substr(5));
  if (engine_key.size() - 9 < std::size_t{key_length} + 8) return std::nullopt;
  m.key = engine_key.substr(9, key_length);
  m.version = load_u64_be(engine_key.substr(9 + key_length, 8));
  m.prefix = engine_key.substr(0, 9 + std::size_t{key_length} + 8);
  return m;
}

engine::CompactionFilter::Decision KeyspaceFilter::filter(int, std::string_view user_key,
                                                          engine::ValueType type,
                                                          std::string_view value) const {
  if (user_key.size() < kMetadataKeyPrefix) return Decision::kKeep;
  if (user_key[4] == static_cast<char>(kMemberSpace)) return filter_member(user_key);
  if (user_key[4] != static_cast<char>(kMetadataSpace) || type != engine::ValueType::kValue) {
    return Decision::kKeep;
  }
  if (load_u32_be(user_key) == DatabaseIds::kSystemId) return Decision::kKeep;
  Result<RecordView> record = decode_record(value);
  if (!record || !record->expired_at(wall_clock_ms())) return Decision::kKeep;
  ++expired_dropped_;
  return Decision::kDrop;
}

engine::CompactionFilter::Decision KeyspaceFilter::filter_member(std::string_view user_key) const {
  std::optional<MemberVersion> member = parse_member_key(user_key);
  if (!member) return Decision::kKeep;
  if (member->prefix != memo_prefix_) {
    memo_prefix_.assign(member->prefix);
    if (dead_.contains(memo_prefix_)) {
      memo_ = Decision::kDrop;
    } else {
      memo_ = Decision::kKeep;
      if (suspects_.size() < kMaxSuspects && queued_.insert(memo_prefix_).second) {
        suspects_.push_back(memo_prefix_);
      }
    }
  }
  if (memo_ == Decision::kDrop) ++members_dropped_;
  return memo_;
}

std::optional<std::string> KeyspaceFilter::take_suspect() {
  if (suspects_.empty()) return std::nullopt;
  std::string prefix = std::move(suspects_.front());
  suspects_.pop_front();
  queued_.erase(prefix);
  return prefix;
}

void KeyspaceFilter::mark_dead(std::string_view prefix) {
  if (dead_.size() >= kMaxDead) dead_.clear();
  dead_.emplace(prefix);
  memo_prefix_.clear();  // the memo may say "keep" for this very version
}

}  // namespace cascade::types
