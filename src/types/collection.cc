// See collection.h.
#include "src/types/collection.h"

#include <bit>
#include <cmath>

#include "engine/format/coding.h"

namespace cascade::types {

void append_collection_payload(std::string& out, KeyType type, const CollectionHeader& header) {
  engine::put_fixed64(out, header.version);
  engine::put_fixed64(out, header.size);
  if (type == KeyType::kList) {
    engine::put_fixed64(out, header.head);
    engine::put_fixed64(out, header.tail);
  }
  if (type == KeyType::kZSet && (!header.index_low.empty() || !header.index_high.empty() ||
                                  header.rank_height > 0)) {
    engine::put_fixed32(out, static_cast<std::uint32_t>(header.index_low.size()));
    out.append(header.index_low);
    engine::put_fixed32(out, static_cast<std::uint32_t>(header.index_high.size()));
    out.append(header.index_high);
    if (header.rank_height > 0) out.push_back(static_cast<char>(header.rank_height));
  }
}

Result<CollectionHeader> decode_collection_payload(KeyType type, std::string_view payload) {
  CollectionHeader header;
  const std::size_t expected = type == KeyType::kList ? 32 : 16;
  const auto bad = [&] {
    return Status::corruption("collection metadata of " + std::to_string(payload.size()) +
                              " bytes for type " + std::string(key_type_name(type)));
  };
  const bool bounds = type == KeyType::kZSet && payload.size() > expected;
  if (!is_collection(type) || (payload.size() != expected && !bounds)) return bad();
  if (bounds) {
    std::string_view rest = payload.substr(expected);
    for (std::string* bound : {&header.index_low, &header.index_high}) {
      std::uint32_t length = 0;
      if (!engine::get_fixed32(rest, length) || length > kMaxIndexBound || length > rest.size()) {
        return bad();
      }
      bound->assign(rest.substr(0, length));
      rest.remove_prefix(length);
    }
    if (rest.size() == 1) {  // the rank index's height, never 0 when present
      header.rank_height = static_cast<std::uint8_t>(rest[0]);
      if (header.rank_height == 0 || header.rank_height > kMaxRankHeight) return bad();
      rest.remove_prefix(1);
    }
    if (!rest.empty()) return bad();
  }
  engine::get_fixed64(payload, header.version);
  engine::get_fixed64(payload, header.size);
  if (type == KeyType::kList) {
    engine::get_fixed64(payload, header.head);
    engine::get_fixed64(payload, header.tail);
    if (header.tail < header.head || header.tail - header.head != header.size) {
      return Status::corruption("list metadata whose head and tail disagree with its size");
    }
  }
  return header;
}

void append_u64_be(std::string& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (56 - 8 * i));
  out.append(bytes, 8);
}

std::uint64_t load_u64_be(std::string_view bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
  return value;
}

std::string member_prefix(std::uint32_t db_id, std::string_view key, std::uint64_t version) {
  std::string out;
  out.reserve(4 + 1 + 4 + key.size() + 8);
  const auto key_length = static_cast<std::uint32_t>(key.size());
  const char head[9] = {static_cast<char>(db_id >> 24),      static_cast<char>(db_id >> 16),
                        static_cast<char>(db_id >> 8),       static_cast<char>(db_id),
                        static_cast<char>(kMemberSpace),     static_cast<char>(key_length >> 24),
                        static_cast<char>(key_length >> 16), static_cast<char>(key_length >> 8),
                        static_cast<char>(key_length)};
  out.append(head, sizeof head);
  out.append(key);
  append_u64_be(out, version);
  return out;
}

// Positive doubles (sign bit clear) sort as their bits do once the sign bit is set; negative
// ones sort in reverse, so all their bits are flipped. -0 is stored as +0: Redis orders the
// two as equal scores (then by member), and so must the index.
void append_score_key(std::string& out, double score) {
  if (score == 0) score = 0.0;
  auto bits = std::bit_cast<std::uint64_t>(score);
  bits = (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
  append_u64_be(out, bits);
}

double decode_score_key(std::string_view bytes) {
  std::uint64_t bits = load_u64_be(bytes);
  bits = (bits >> 63) != 0 ? bits & ~(std::uint64_t{1} << 63) : ~bits;
  return std::bit_cast<double>(bits);
}

void append_score_value(std::string& out, double score) {
  engine::put_fixed64(out, std::bit_cast<std::uint64_t>(score));
}

Result<double> decode_score_value(std::string_view bytes) {
  std::uint64_t bits = 0;
  if (bytes.size() != 8 || !engine::get_fixed64(bytes, bits)) {
    return Status::corruption("sorted set score of " + std::to_string(bytes.size()) + " bytes");
  }
  const double score = std::bit_cast<double>(bits);
  if (std::isnan(score)) return Status::corruption("sorted set score is NaN");
  return score;
}

// ---- Collection ------------------------------------------------------------------------

Result<Collection> Collection::open(StagedWrites& writes, std::uint32_t db_id,
                                    std::string_view key, KeyType type,
                                    const std::optional<StoredRecord>& record) {
  Collection c;
  c.writes_ = &writes;
  c.db_id_ = db_id;
  c.key_.assign(key);
  c.type_ = type;
  if (!record) return c;
  if (record->type != type) {
    c.state_ = State::kWrongType;
    return c;
  }
  Result<CollectionHeader> header = decode_collection_payload(type, record->payload());
  if (!header) return header.error();
  c.header_ = *header;
  c.expire_ms_ = record->expire_ms;
  c.loaded_header_ = c.header_;
  c.loaded_expire_ms_ = c.expire_ms_;
  c.state_ = State::kPresent;
  c.prefix_ = member_prefix(db_id, key, c.header_.version);
  return c;
}

void Collection::create(std::uint64_t version) {
  loaded_header_.reset();  // a new collection: its record is always written
  header_ = CollectionHeader{};
  header_.version = version;
  expire_ms_.reset();
  state_ = State::kPresent;
  prefix_ = member_prefix(db_id_, key_, version);
}

std::string Collection::member_key(std::string_view suffix) const {
  std::string out;
  out.reserve(prefix_.size() + suffix.size());
  out.append(prefix_);
  out.append(suffix);
  return out;
}

Result<std::optional<std::string>> Collection::get(std::string_view suffix) {
  return writes_->get(member_key(suffix));
}

void Collection::put(std::string_view suffix, std::string_view value) {
  writes_->put(member_key(suffix), value);
}

void Collection::del(std::string_view suffix) { writes_->del(member_key(suffix)); }

StagedWrites::Cursor Collection::cursor() {
  return StagedWrites::Cursor(*writes_, prefix_, prefix_end(prefix_));
}

StagedWrites::Cursor Collection::cursor(std::string_view sub) {
  std::string lower = member_key(sub);
  std::string upper = prefix_end(lower);
  return StagedWrites::Cursor(*writes_, std::move(lower), std::move(upper));
}

void Collection::finish() {
  const std::string meta = metadata_key(db_id_, key_);
  if (state_ != State::kPresent) return;
  if (header_.size == 0) {
    writes_->del(meta);
    return;
  }
  if (loaded_header_ && header_ == *loaded_header_ && expire_ms_ == loaded_expire_ms_) return;
  std::string payload;
  append_collection_payload(payload, type_, header_);
  std::string record;
  append_record(record, type_, expire_ms_, payload);
  writes_->put(meta, record);
}

}  // namespace cascade::types
