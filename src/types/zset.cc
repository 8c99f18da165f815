// See zset.h.
#include "src/types/zset.h"

namespace cascade::types {

namespace {
constexpr std::size_t kScoreBytes = 8;
}  // namespace

Result<std::optional<double>> ZSet::score(std::string_view member) {
  std::string suffix;
  suffix.reserve(1 + member.size());
  suffix.push_back(kZSetMemberTag);
  suffix.append(member);
  Result<std::optional<std::string>> value = c_.get(suffix);
  if (!value) return value.error();
  if (!value->has_value()) return std::optional<double>();
  Result<double> score = decode_score_value(**value);
  if (!score) return score.error();
  return std::optional<double>(*score);
}

void ZSet::set(std::string_view member, double score, std::optional<double> old) {
  if (score == 0) score = 0.0;  // -0 is stored as +0 (file comment)
  std::string suffix;
  suffix.push_back(kZSetMemberTag);
  suffix.append(member);
  std::string value;
  append_score_value(value, score);
  c_.put(suffix, value);
  if (old) {
    if (*old == score) return;  // -0 and +0 included: one index key
    c_.writes().del(index_key(*old, member));
  } else {
    ++c_.header().size;
  }
  c_.writes().put(index_key(score, member), {});
}

void ZSet::remove(std::string_view member, double score) {
  std::string suffix;
  suffix.push_back(kZSetMemberTag);
  suffix.append(member);
  c_.del(suffix);
  c_.writes().del(index_key(score, member));
  --c_.header().size;
}

std::string ZSet::index_key(double score, std::string_view member) const {
  std::string key;
  key.reserve(c_.prefix().size() + 1 + kScoreBytes + member.size());
  key.append(c_.prefix());
  key.push_back(kZSetScoreTag);
  append_score_key(key, score);
  key.append(member);
  return key;
}

// The 8 score bytes end the key; adding one to them as a big-endian number gives the first
// key past every entry of that score. They are never all 0xff (that would be a NaN), so
// the carry stops inside them.
std::string ZSet::index_key_after(double score) const {
  std::string key = index_key(score);
  std::size_t i = key.size();
  while (i > 0 && static_cast<std::uint8_t>(key[i - 1]) == 0xff) key[--i] = 0;
  key[i - 1] = static_cast<char>(static_cast<std::uint8_t>(key[i - 1]) + 1);
  return key;
}

double ZSet::index_score(std::string_view key) const {
  return decode_score_key(key.substr(c_.prefix().size() + 1, kScoreBytes));
}

std::string_view ZSet::index_member(std::string_view key) const {
  return key.substr(c_.prefix().size() + 1 + kScoreBytes);
}

std::string_view ZSet::entry_member(std::string_view key) const {
  return key.substr(c_.prefix().size() + 1);
}

void ZSet::seek_rank(StagedWrites::Cursor& c, std::uint64_t rank, std::uint64_t size) {
  if (rank <= size - 1 - rank) {
    c.seek_to_first();
    for (std::uint64_t i = 0; i < rank && c.valid(); ++i) c.next();
  } else {
    c.seek_to_last();
    for (std::uint64_t i = size - 1; i > rank && c.valid(); --i) c.prev();
  }
}

// Two cursors leave the member, one towards each end, a step each in turn: whichever runs
// off its end first knows the rank (the header's size gives the other side's count).
Result<std::uint64_t> ZSet::rank_of(std::string_view key) {
  StagedWrites::Cursor down = index();
  StagedWrites::Cursor up = index();
  down.seek(key);
  up.seek(key);
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  for (;;) {
    down.prev();
    if (!down.valid()) {
      if (!down.status()) return down.status();
      return before;
    }
    ++before;
    up.next();
    if (!up.valid()) {
      if (!up.status()) return up.status();
      return size() - 1 - after;
    }
    ++after;
  }
}

void seek_before(StagedWrites::Cursor& c, std::string_view key) {
  c.seek_for_prev(key);
  if (c.valid() && c.key() == key) c.prev();
}

}  // namespace cascade::types
