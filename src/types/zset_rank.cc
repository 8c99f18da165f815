// See zset_rank.h.
#include "src/types/zset_rank.h"

#include "src/types/zset.h"

#include <vector>

#include "engine/format/coding.h"

namespace cascade::types {

namespace {

Status broken(const std::string& what) {
  return Status::corruption("a sorted set's rank index " + what);
}

// A cursor that ran out: its error, or the corruption `what` when it simply ended.
Status ended(const StagedWrites::Cursor& c, const std::string& what) {
  return c.status() ? broken(what) : c.status();
}

}  // namespace

std::string shortest_separator(std::string_view before, std::string_view entry) {
  std::size_t common = 0;
  while (common < before.size() && common < entry.size() && before[common] == entry[common]) {
    ++common;
  }
  return std::string(entry.substr(0, common + 1));
}

StagedWrites::Cursor score_index(Collection& c) {
  const CollectionHeader& h = c.header();
  std::string lower = c.member_key(std::string_view(&kZSetScoreTag, 1));
  std::string upper = h.index_high.empty() ? prefix_end(lower) : lower + h.index_high;
  lower.append(h.index_low);
  return StagedWrites::Cursor(c.writes(), std::move(lower), std::move(upper));
}

std::string ZSetRankIndex::record_key(std::uint8_t level, std::string_view separator) const {
  std::string key;
  key.reserve(c_.prefix().size() + 2 + separator.size());
  key.append(c_.prefix());
  key.push_back(kZSetRankTag);
  key.push_back(static_cast<char>(level));
  key.append(separator);
  return key;
}

std::string ZSetRankIndex::entry_key(std::string_view entry) const {
  std::string key;
  key.reserve(c_.prefix().size() + 1 + entry.size());
  key.append(c_.prefix());
  key.push_back(kZSetScoreTag);
  key.append(entry);
  return key;
}

StagedWrites::Cursor ZSetRankIndex::records() {
  std::string lower = c_.member_key(std::string_view(&kZSetRankTag, 1));
  std::string upper = prefix_end(lower);
  return StagedWrites::Cursor(c_.writes(), std::move(lower), std::move(upper));
}

void ZSetRankIndex::put(std::uint8_t level, std::string_view separator, std::uint64_t count) {
  std::string value;
  engine::put_fixed64(value, count);
  c_.writes().put(record_key(level, separator), value);
}

namespace {

// The record under the cursor if it belongs to `level` (level_key: the level's sentinel
// key, a prefix of all its records): its separator and count.
bool read_record(const StagedWrites::Cursor& c, std::string_view level_key, std::string& separator,
                 std::uint64_t& count, Status& error) {
  if (!c.valid() || !c.key().starts_with(level_key)) return false;
  std::string_view value = c.value();
  if (value.size() != 8 || !engine::get_fixed64(value, count)) {
    error = broken("record holds " + std::to_string(c.value().size()) + " bytes, not 8");
    return false;
  }
  separator.assign(c.key().substr(level_key.size()));
  return true;
}

}  // namespace

Result<ZSetRankIndex::Record> ZSetRankIndex::holder(StagedWrites::Cursor& c, std::uint8_t level,
                                                    std::string_view entry, bool strict) {
  const std::string key = record_key(level, entry);
  if (strict) {
    seek_before(c, key);
  } else {
    c.seek_for_prev(key);
  }
  Record r;
  Status error;
  if (!read_record(c, std::string_view(key).substr(0, c_.prefix().size() + 2), r.separator,
                   r.count, error)) {
    return error ? ended(c, "lacks a level's sentinel") : error;
  }
  return r;
}

Result<std::optional<ZSetRankIndex::Record>> ZSetRankIndex::next_of(StagedWrites::Cursor& c,
                                                                    std::uint8_t level,
                                                                    std::string_view separator) {
  std::string key = record_key(level, separator);
  key.push_back('\0');  // the first key above the separator's
  c.seek(key);
  Record r;
  Status error;
  if (!read_record(c, std::string_view(key).substr(0, c_.prefix().size() + 2), r.separator,
                   r.count, error)) {
    if (!error) return error;
    if (!c.status()) return c.status();
    return std::optional<Record>();
  }
  return std::optional<Record>(std::move(r));
}

namespace {
using Records = std::vector<std::pair<std::string, std::uint64_t>>;
}

// The records of `level` from `lo` (a separator of that level) up to `hi` (exclusive;
// nullopt: the level's end).
static Status read_range(StagedWrites::Cursor& c, const std::string& level_key,
                         std::string_view lo, const std::optional<std::string>& hi,
                         Records& out) {
  out.clear();
  std::string start = level_key;
  start.append(lo);
  Status error;
  std::string separator;
  std::uint64_t count = 0;
  for (c.seek(start); read_record(c, level_key, separator, count, error); c.next()) {
    if (hi && separator >= *hi) break;
    out.emplace_back(separator, count);
  }
  if (!error) return error;
  if (!c.status()) return c.status();
  if (out.empty() || out.front().first != lo) return broken("lacks a separator of a level above");
  return Status::ok();
}

Result<std::uint64_t> ZSetRankIndex::rank_of(std::string_view entry) {
  StagedWrites::Cursor c = records();
  std::string lo;
  std::optional<std::string> hi;
  std::uint64_t rank = 0;
  Records range;
  for (int level = height() - 1; level >= 0; --level) {
    const auto l = static_cast<std::uint8_t>(level);
    if (Status s = read_range(c, record_key(l, {}), lo, hi, range); !s) return s;
    std::size_t i = 0;
    for (; i + 1 < range.size() && range[i + 1].first <= entry; ++i) rank += range[i].second;
    lo = range[i].first;
    if (i + 1 < range.size()) hi = range[i + 1].first;
  }
  // The bucket's entries below `entry` (at most 2F).
  StagedWrites::Cursor index = score_index(c_);
  const std::size_t skip = c_.prefix().size() + 1;
  for (index.seek(entry_key(lo)); index.valid() && index.key().substr(skip) < entry; index.next()) {
    ++rank;
  }
  if (!index.status()) return index.status();
  return rank;
}

Status ZSetRankIndex::seek_rank(StagedWrites::Cursor& index, std::uint64_t rank) {
  StagedWrites::Cursor c = records();
  std::string lo;
  std::optional<std::string> hi;
  Records range;
  for (int level = height() - 1; level >= 0; --level) {
    const auto l = static_cast<std::uint8_t>(level);
    if (Status s = read_range(c, record_key(l, {}), lo, hi, range); !s) return s;
    std::size_t i = 0;
    for (; i < range.size() && rank >= range[i].second; ++i) rank -= range[i].second;
    if (i == range.size()) return broken("counts fewer entries than the set's size");
    lo = range[i].first;
    if (i + 1 < range.size()) hi = range[i + 1].first;
  }
  index.seek(entry_key(lo));
  for (std::uint64_t i = 0; i < rank && index.valid(); ++i) index.next();
  return index.valid() ? Status::ok() : ended(index, "counts more entries than a bucket holds");
}

Status ZSetRankIndex::added(std::string_view entry) {
  StagedWrites::Cursor c = records();
  std::string bucket;
  std::uint64_t bucket_count = 0;
  for (std::uint8_t level = 0; level < height(); ++level) {
    Result<Record> r = holder(c, level, entry);
    if (!r) return r.error();
    put(level, r->separator, r->count + 1);
    if (level == 0) {
      bucket = std::move(r->separator);
      bucket_count = r->count + 1;
    }
  }
  if (bucket_count <= 2 * fanout_) return Status::ok();
  return split_if_full(0, std::move(bucket));
}

Status ZSetRankIndex::removed(std::string_view entry) {
  StagedWrites::Cursor c = records();
  std::string bucket;
  std::uint64_t left = 0;
  for (std::uint8_t level = 0; level < height(); ++level) {
    Result<Record> r = holder(c, level, entry);
    if (!r) return r.error();
    if (r->count == 0) return broken("counts no entry where one was removed");
    put(level, r->separator, r->count - 1);
    if (level == 0) {
      bucket = std::move(r->separator);
      left = r->count - 1;
    }
  }
  const bool underfull = 2 * left < fanout_;
  if (!bucket.empty()) {
    if (left == 0) return remove_separator(std::move(bucket));
    if (!underfull) return Status::ok();
    Result<Record> before = holder(c, 0, bucket, /*strict=*/true);
    if (!before) return before.error();
    if (before->count + left <= fanout_) return remove_separator(std::move(bucket));
    return Status::ok();
  }
  if (!underfull) return Status::ok();
  Result<std::optional<Record>> after = next_of(c, 0, bucket);
  if (!after) return after.error();
  if (*after && (*after)->count + left <= fanout_) {
    return remove_separator(std::move((*after)->separator));
  }
  return Status::ok();
}

Status ZSetRankIndex::remove_separator(std::string separator) {
  StagedWrites::Cursor c = records();
  std::vector<std::string> before;  // per level holding the separator, its predecessor
  for (std::uint8_t level = 0; level < height(); ++level) {
    const std::string key = record_key(level, separator);
    Result<std::optional<std::string>> value = c_.writes().get(key);
    if (!value) return value.error();
    if (!value->has_value()) break;
    std::string_view bytes = **value;
    std::uint64_t count = 0;
    if (bytes.size() != 8 || !engine::get_fixed64(bytes, count)) return broken("record malformed");
    Result<Record> prior = holder(c, level, separator, /*strict=*/true);
    if (!prior) return prior.error();
    put(level, prior->separator, prior->count + count);
    c_.writes().del(key);
    before.push_back(std::move(prior->separator));
  }
  // A predecessor above level 0 took in the removed separator's node.
  for (std::size_t level = 1; level < before.size(); ++level) {
    if (Status s = split_if_full(static_cast<std::uint8_t>(level), before[level]); !s) return s;
  }
  return Status::ok();
}

Status ZSetRankIndex::split_if_full(std::uint8_t level, std::string separator) {
  const std::size_t limit = 2 * fanout_;
  for (;;) {
    StagedWrites::Cursor c = records();
    Result<Record> self = holder(c, level, separator);
    if (!self) return self.error();
    if (self->separator != separator) return broken("lacks a separator it split");
    std::string median;
    std::uint64_t upper = 0;
    if (level == 0) {
      if (self->count <= limit) return Status::ok();
      // The entry at position count/2 of the bucket, and the one before it.
      const std::uint64_t lower_half = self->count / 2;
      StagedWrites::Cursor index = score_index(c_);
      const std::size_t skip = c_.prefix().size() + 1;
      index.seek(entry_key(separator));
      std::string before;
      for (std::uint64_t i = 0; i < lower_half && index.valid(); ++i) {
        before.assign(index.key().substr(skip));
        index.next();
      }
      if (!index.valid()) return ended(index, "counts more entries than a bucket holds");
      median = shortest_separator(before, index.key().substr(skip));
      upper = self->count - lower_half;
    } else {
      Result<std::optional<Record>> next = next_of(c, level, separator);
      if (!next) return next.error();
      std::optional<std::string> end;
      if (*next) end = std::move((*next)->separator);
      Records children;
      const auto below = static_cast<std::uint8_t>(level - 1);
      if (Status s = read_range(c, record_key(below, {}), separator, end, children); !s) return s;
      if (children.size() <= limit) return Status::ok();
      const std::size_t half = children.size() / 2;
      median = children[half].first;
      for (std::size_t i = half; i < children.size(); ++i) upper += children[i].second;
      if (upper > self->count) return broken("node counts disagree with their parent's");
    }
    put(level, separator, self->count - upper);
    put(level, median, upper);
    if (level + 1 < height()) {  // the parent gained a child
      Result<Record> parent = holder(c, static_cast<std::uint8_t>(level + 1), separator);
      if (!parent) return parent.error();
      separator = std::move(parent->separator);
      ++level;
      continue;
    }
    Records top;
    if (Status s = read_range(c, record_key(level, {}), {}, std::nullopt, top); !s) return s;
    if (top.size() <= limit || height() >= kMaxRankHeight) return Status::ok();
    // A new top level: its sentinel holds everything, and its node splits as any other.
    ++level;
    put(level, {}, c_.size());
    c_.header().rank_height = static_cast<std::uint8_t>(level + 1);
    separator.clear();
  }
}

Status ZSetRankIndex::build() {
  const std::size_t skip = c_.prefix().size() + 1;
  std::vector<Records> levels(1);
  Records& buckets = levels[0];
  buckets.emplace_back(std::string(), 0);
  std::string before;
  std::uint64_t total = 0;
  StagedWrites::Cursor index = score_index(c_);
  for (index.seek_to_first(); index.valid(); index.next()) {
    const std::string_view entry = index.key().substr(skip);
    if (buckets.back().second == fanout_) {
      buckets.emplace_back(shortest_separator(before, entry), 0);
    }
    ++buckets.back().second;
    ++total;
    before.assign(entry);
  }
  if (!index.status()) return index.status();
  if (total != c_.size()) return broken("build found " + std::to_string(total) + " entries");
  while (levels.back().size() > 2 * fanout_) {
    Records up;
    const Records& below = levels.back();
    for (std::size_t i = 0; i < below.size(); ++i) {
      if (i % fanout_ == 0) up.emplace_back(below[i].first, 0);
      up.back().second += below[i].second;
    }
    levels.push_back(std::move(up));
  }
  if (levels.size() > kMaxRankHeight) return broken("would be higher than its limit");
  for (std::size_t level = 0; level < levels.size(); ++level) {
    for (const auto& [separator, count] : levels[level]) {
      put(static_cast<std::uint8_t>(level), separator, count);
    }
  }
  c_.header().rank_height = static_cast<std::uint8_t>(levels.size());
  return Status::ok();
}

Status ZSetRankIndex::check() {
  if (!built()) return Status::ok();
  StagedWrites::Cursor c = records();
  const std::size_t limit = 2 * fanout_;
  // Level 0 against the entries.
  Records below;
  if (Status s = read_range(c, record_key(0, {}), {}, std::nullopt, below); !s) return s;
  std::vector<std::uint64_t> actual(below.size(), 0);
  StagedWrites::Cursor index = score_index(c_);
  const std::size_t skip = c_.prefix().size() + 1;
  std::size_t j = 0;
  for (index.seek_to_first(); index.valid(); index.next()) {
    const std::string_view entry = index.key().substr(skip);
    while (j + 1 < below.size() && below[j + 1].first <= entry) ++j;
    ++actual[j];
  }
  if (!index.status()) return index.status();
  for (std::size_t i = 0; i < below.size(); ++i) {
    if (below[i].second != actual[i]) {
      return broken("bucket " + std::to_string(i) + " counts " + std::to_string(below[i].second) +
                    " entries, holds " + std::to_string(actual[i]));
    }
    if (actual[i] > limit) return broken("bucket over 2F entries");
    if (i > 0 && actual[i] == 0) return broken("keeps an empty bucket");
  }
  for (std::uint8_t level = 1; level < height(); ++level) {
    Records here;
    if (Status s = read_range(c, record_key(level, {}), {}, std::nullopt, here); !s) return s;
    std::size_t k = 0;  // the next record of `below`
    for (std::size_t i = 0; i < here.size(); ++i) {
      if (k >= below.size() || below[k].first != here[i].first) {
        return broken("separator of level " + std::to_string(level) + " missing below");
      }
      std::uint64_t sum = 0;
      std::size_t children = 0;
      for (; k < below.size() && (i + 1 == here.size() || below[k].first < here[i + 1].first);
           ++k) {
        sum += below[k].second;
        ++children;
      }
      if (sum != here[i].second) return broken("count disagrees with its node's");
      if (children > limit) return broken("node over 2F separators");
    }
    below = std::move(here);
  }
  std::uint64_t sum = 0;
  for (const auto& record : below) sum += record.second;
  if (sum != c_.size()) return broken("top level counts " + std::to_string(sum));
  if (below.size() > limit) return broken("top level over 2F separators");
  c.seek(record_key(height(), {}));
  if (c.valid()) return broken("has a record above its height");
  return c.status();
}

}  // namespace cascade::types
