// See zset_rank.h.
#include "src/types/zset_rank.h"

#include "engine/format/coding.h"
#include "src/types/zset.h"

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

namespace {

std::string record_key(const std::string& prefix, char tag, std::uint8_t level,
                       std::string_view separator) {
  std::string key;
  key.reserve(prefix.size() + 2 + separator.size());
  key.append(prefix);
  key.push_back(tag);
  key.push_back(static_cast<char>(level));
  key.append(separator);
  return key;
}

}  // namespace

std::string ZSetRankIndex::separator_key(std::uint8_t level, std::string_view separator) const {
  return record_key(c_.prefix(), kZSetRankTag, level, separator);
}

std::string ZSetRankIndex::count_key(std::uint8_t level, std::string_view separator) const {
  return record_key(c_.prefix(), kZSetCountTag, level, separator);
}

std::string ZSetRankIndex::entry_key(std::string_view entry) const {
  std::string key;
  key.reserve(c_.prefix().size() + 1 + entry.size());
  key.append(c_.prefix());
  key.push_back(kZSetScoreTag);
  key.append(entry);
  return key;
}

StagedWrites::Cursor& ZSetRankIndex::separators() {
  if (!separators_) {
    std::string lower = c_.member_key(std::string_view(&kZSetRankTag, 1));
    std::string upper = prefix_end(lower);
    separators_.emplace(c_.writes(), std::move(lower), std::move(upper));
  }
  return *separators_;
}

Result<std::uint64_t> ZSetRankIndex::count(std::uint8_t level, std::string_view separator) {
  Result<std::optional<std::string>> value = c_.writes().get(count_key(level, separator));
  if (!value) return value.error();
  if (!value->has_value()) return broken("lacks the count of a separator");
  std::string_view bytes = **value;
  std::uint64_t n = 0;
  if (bytes.size() != 8 || !engine::get_fixed64(bytes, n)) {
    return broken("count of " + std::to_string(bytes.size()) + " bytes, not 8");
  }
  return n;
}

void ZSetRankIndex::put_count(std::uint8_t level, std::string_view separator, std::uint64_t n) {
  std::string value;
  engine::put_fixed64(value, n);
  c_.writes().put(count_key(level, separator), value);
}

void ZSetRankIndex::add_separator(std::uint8_t level, std::string_view separator,
                                  std::uint64_t n) {
  c_.writes().put(separator_key(level, separator), {});
  put_count(level, separator, n);
}

Result<std::string> ZSetRankIndex::holder(StagedWrites::Cursor& c, std::uint8_t level,
                                          std::string_view entry, bool strict) {
  const std::string key = separator_key(level, entry);
  if (strict) {
    seek_before(c, key);
  } else {
    c.seek_for_prev(key);
  }
  const std::size_t level_size = c_.prefix().size() + 2;
  if (!c.valid() || !c.key().starts_with(std::string_view(key).substr(0, level_size))) {
    return ended(c, "lacks a level's sentinel");
  }
  return std::string(c.key().substr(level_size));
}

Result<std::optional<std::string>> ZSetRankIndex::next_of(StagedWrites::Cursor& c,
                                                          std::uint8_t level,
                                                          std::string_view separator) {
  std::string key = separator_key(level, separator);
  key.push_back('\0');  // the first key above the separator's
  c.seek(key);
  const std::size_t level_size = c_.prefix().size() + 2;
  if (!c.valid() || !c.key().starts_with(std::string_view(key).substr(0, level_size))) {
    if (!c.status()) return c.status();
    return std::optional<std::string>();
  }
  return std::optional<std::string>(c.key().substr(level_size));
}

Status ZSetRankIndex::read_range(StagedWrites::Cursor& c, std::uint8_t level, std::string_view lo,
                                 const std::optional<std::string>& hi,
                                 std::vector<std::string>& out) {
  out.clear();
  const std::string level_key = separator_key(level, {});
  for (c.seek(separator_key(level, lo)); c.valid() && c.key().starts_with(level_key); c.next()) {
    const std::string_view separator = c.key().substr(level_key.size());
    if (hi && separator >= std::string_view(*hi)) break;
    out.emplace_back(separator);
  }
  if (!c.status()) return c.status();
  if (out.empty() || out.front() != lo) return broken("lacks a separator of a level above");
  return Status::ok();
}

Result<std::uint64_t> ZSetRankIndex::rank_of(std::string_view entry) {
  StagedWrites::Cursor& c = separators();
  std::string lo;
  std::optional<std::string> hi;
  std::uint64_t rank = 0;
  std::vector<std::string> range;
  for (int level = height() - 1; level >= 0; --level) {
    const auto l = static_cast<std::uint8_t>(level);
    if (Status s = read_range(c, l, lo, hi, range); !s) return s;
    std::size_t i = 0;
    for (; i + 1 < range.size() && range[i + 1] <= entry; ++i) {
      Result<std::uint64_t> n = count(l, range[i]);
      if (!n) return n.error();
      rank += *n;
    }
    if (i + 1 < range.size()) hi = std::move(range[i + 1]);
    lo = std::move(range[i]);
  }
  // The bucket's entries below `entry` (at most 2B).
  StagedWrites::Cursor index = score_index(c_);
  const std::size_t skip = c_.prefix().size() + 1;
  for (index.seek(entry_key(lo)); index.valid() && index.key().substr(skip) < entry; index.next()) {
    ++rank;
  }
  if (!index.status()) return index.status();
  return rank;
}

Status ZSetRankIndex::seek_rank(StagedWrites::Cursor& index, std::uint64_t rank) {
  StagedWrites::Cursor& c = separators();
  std::string lo;
  std::optional<std::string> hi;
  std::vector<std::string> range;
  for (int level = height() - 1; level >= 0; --level) {
    const auto l = static_cast<std::uint8_t>(level);
    if (Status s = read_range(c, l, lo, hi, range); !s) return s;
    std::size_t i = 0;
    for (;; ++i) {
      if (i == range.size()) return broken("counts fewer entries than the set's size");
      Result<std::uint64_t> n = count(l, range[i]);
      if (!n) return n.error();
      if (rank < *n) break;
      rank -= *n;
    }
    if (i + 1 < range.size()) hi = std::move(range[i + 1]);
    lo = std::move(range[i]);
  }
  index.seek(entry_key(lo));
  for (std::uint64_t i = 0; i < rank && index.valid(); ++i) index.next();
  return index.valid() ? Status::ok() : ended(index, "counts more entries than a bucket holds");
}

Status ZSetRankIndex::added(std::string_view entry) {
  StagedWrites::Cursor& c = separators();
  std::string bucket;
  std::uint64_t bucket_count = 0;
  for (std::uint8_t level = 0; level < height(); ++level) {
    Result<std::string> h = holder(c, level, entry);
    if (!h) return h.error();
    Result<std::uint64_t> n = count(level, *h);
    if (!n) return n.error();
    put_count(level, *h, *n + 1);
    if (level == 0) {
      bucket = std::move(*h);
      bucket_count = *n + 1;
    }
  }
  if (bucket_count <= 2 * shape_.bucket) return Status::ok();
  return split_if_full(0, std::move(bucket));
}

Status ZSetRankIndex::removed(std::string_view entry) {
  StagedWrites::Cursor& c = separators();
  std::string bucket;
  std::uint64_t left = 0;
  for (std::uint8_t level = 0; level < height(); ++level) {
    Result<std::string> h = holder(c, level, entry);
    if (!h) return h.error();
    Result<std::uint64_t> n = count(level, *h);
    if (!n) return n.error();
    if (*n == 0) return broken("counts no entry where one was removed");
    put_count(level, *h, *n - 1);
    if (level == 0) {
      bucket = std::move(*h);
      left = *n - 1;
    }
  }
  const bool underfull = 2 * left < shape_.bucket;
  if (!bucket.empty()) {
    if (left == 0) return remove_separator(std::move(bucket));
    if (!underfull) return Status::ok();
    Result<std::string> before = holder(c, 0, bucket, /*strict=*/true);
    if (!before) return before.error();
    Result<std::uint64_t> n = count(0, *before);
    if (!n) return n.error();
    if (*n + left <= shape_.bucket) return remove_separator(std::move(bucket));
    return Status::ok();
  }
  if (!underfull) return Status::ok();
  Result<std::optional<std::string>> after = next_of(c, 0, bucket);
  if (!after) return after.error();
  if (!after->has_value()) return Status::ok();
  Result<std::uint64_t> n = count(0, **after);
  if (!n) return n.error();
  if (*n + left <= shape_.bucket) return remove_separator(std::move(**after));
  return Status::ok();
}

Status ZSetRankIndex::remove_separator(std::string separator) {
  StagedWrites::Cursor& c = separators();
  std::vector<std::string> before;  // per level holding the separator, its predecessor
  for (std::uint8_t level = 0; level < height(); ++level) {
    const std::string key = separator_key(level, separator);
    Result<std::optional<std::string>> present = c_.writes().get(key);
    if (!present) return present.error();
    if (!present->has_value()) break;
    Result<std::uint64_t> n = count(level, separator);
    if (!n) return n.error();
    Result<std::string> prior = holder(c, level, separator, /*strict=*/true);
    if (!prior) return prior.error();
    Result<std::uint64_t> prior_n = count(level, *prior);
    if (!prior_n) return prior_n.error();
    put_count(level, *prior, *prior_n + *n);
    c_.writes().del(key);
    c_.writes().del(count_key(level, separator));
    before.push_back(std::move(*prior));
  }
  // A predecessor above level 0 took in the removed separator's node.
  for (std::size_t level = 1; level < before.size(); ++level) {
    if (Status s = split_if_full(static_cast<std::uint8_t>(level), before[level]); !s) return s;
  }
  return Status::ok();
}

Status ZSetRankIndex::split_if_full(std::uint8_t level, std::string separator) {
  for (;;) {
    StagedWrites::Cursor& c = separators();
    Result<std::uint64_t> self = count(level, separator);
    if (!self) return self.error();
    std::string median;
    std::uint64_t upper = 0;
    if (level == 0) {
      if (*self <= 2 * shape_.bucket) return Status::ok();
      // The entry at position count/2 of the bucket, and the one before it.
      const std::uint64_t lower_half = *self / 2;
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
      upper = *self - lower_half;
    } else {
      Result<std::optional<std::string>> end = next_of(c, level, separator);
      if (!end) return end.error();
      std::vector<std::string> children;
      const auto below = static_cast<std::uint8_t>(level - 1);
      if (Status s = read_range(c, below, separator, *end, children); !s) return s;
      if (children.size() <= 2 * shape_.fanout) return Status::ok();
      const std::size_t half = children.size() / 2;
      median = children[half];
      for (std::size_t i = half; i < children.size(); ++i) {
        Result<std::uint64_t> n = count(below, children[i]);
        if (!n) return n.error();
        upper += *n;
      }
      if (upper > *self) return broken("node counts disagree with their parent's");
    }
    put_count(level, separator, *self - upper);
    add_separator(level, median, upper);
    if (level + 1 < height()) {  // the parent gained a child
      Result<std::string> parent = holder(c, static_cast<std::uint8_t>(level + 1), separator);
      if (!parent) return parent.error();
      separator = std::move(*parent);
      ++level;
      continue;
    }
    std::vector<std::string> top;
    if (Status s = read_range(c, level, {}, std::nullopt, top); !s) return s;
    if (top.size() <= 2 * shape_.fanout || height() >= kMaxRankHeight) return Status::ok();
    // A new top level: its sentinel holds everything, and its node splits as any other.
    ++level;
    add_separator(level, {}, c_.size());
    c_.header().rank_height = static_cast<std::uint8_t>(level + 1);
    separator.clear();
  }
}

Status ZSetRankIndex::build() {
  using Level = std::vector<std::pair<std::string, std::uint64_t>>;
  const std::size_t skip = c_.prefix().size() + 1;
  std::vector<Level> levels(1);
  levels[0].emplace_back(std::string(), 0);
  std::string before;
  std::uint64_t total = 0;
  StagedWrites::Cursor index = score_index(c_);
  for (index.seek_to_first(); index.valid(); index.next()) {
    Level& buckets = levels[0];
    const std::string_view entry = index.key().substr(skip);
    if (buckets.back().second == shape_.bucket) {
      buckets.emplace_back(shortest_separator(before, entry), 0);
    }
    ++buckets.back().second;
    ++total;
    before.assign(entry);
  }
  if (!index.status()) return index.status();
  if (total != c_.size()) return broken("build found " + std::to_string(total) + " entries");
  while (levels.back().size() > 2 * shape_.fanout) {
    Level up;
    const Level& below = levels.back();
    for (std::size_t i = 0; i < below.size(); ++i) {
      if (i % shape_.fanout == 0) up.emplace_back(below[i].first, 0);
      up.back().second += below[i].second;
    }
    levels.push_back(std::move(up));
  }
  if (levels.size() > kMaxRankHeight) return broken("would be higher than its limit");
  for (std::size_t level = 0; level < levels.size(); ++level) {
    for (const auto& [separator, n] : levels[level]) {
      add_separator(static_cast<std::uint8_t>(level), separator, n);
    }
  }
  c_.header().rank_height = static_cast<std::uint8_t>(levels.size());
  return Status::ok();
}

Status ZSetRankIndex::check() {
  if (!built()) {  // height 0: not one record of the index (file comment)
    for (char tag : {kZSetRankTag, kZSetCountTag}) {
      StagedWrites::Cursor records = c_.cursor(std::string_view(&tag, 1));
      records.seek_to_first();
      if (records.valid()) return broken("has records but no height");
      if (!records.status()) return records.status();
    }
    return Status::ok();
  }
  using Level = std::vector<std::pair<std::string, std::uint64_t>>;
  StagedWrites::Cursor& c = separators();
  // Every level's separators with their counts; every count has its separator.
  std::vector<Level> levels(height());
  std::size_t records = 0;
  for (std::uint8_t level = 0; level < height(); ++level) {
    std::vector<std::string> separators;
    if (Status s = read_range(c, level, {}, std::nullopt, separators); !s) return s;
    for (std::string& separator : separators) {
      Result<std::uint64_t> n = count(level, separator);
      if (!n) return n.error();
      levels[level].emplace_back(std::move(separator), *n);
    }
    records += levels[level].size();
  }
  c.seek(separator_key(height(), {}));
  if (c.valid()) return broken("has a separator above its height");
  if (!c.status()) return c.status();
  StagedWrites::Cursor counts = c_.cursor(std::string_view(&kZSetCountTag, 1));
  std::size_t count_records = 0;
  for (counts.seek_to_first(); counts.valid(); counts.next()) ++count_records;
  if (!counts.status()) return counts.status();
  if (count_records != records) return broken("has counts without separators");
  // Level 0 against the entries.
  const Level& buckets = levels[0];
  std::vector<std::uint64_t> actual(buckets.size(), 0);
  StagedWrites::Cursor index = score_index(c_);
  const std::size_t skip = c_.prefix().size() + 1;
  std::size_t j = 0;
  for (index.seek_to_first(); index.valid(); index.next()) {
    const std::string_view entry = index.key().substr(skip);
    while (j + 1 < buckets.size() && std::string_view(buckets[j + 1].first) <= entry) ++j;
    ++actual[j];
  }
  if (!index.status()) return index.status();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i].second != actual[i]) {
      return broken("bucket " + std::to_string(i) + " counts " + std::to_string(buckets[i].second) +
                    " entries, holds " + std::to_string(actual[i]));
    }
    if (actual[i] > 2 * shape_.bucket) return broken("bucket over 2B entries");
    if (i > 0 && actual[i] == 0) return broken("keeps an empty bucket");
  }
  for (std::uint8_t level = 1; level < height(); ++level) {
    const Level& below = levels[level - 1];
    const Level& here = levels[level];
    std::size_t k = 0;  // the next separator of `below`
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
      if (children > 2 * shape_.fanout) return broken("node over 2F separators");
    }
  }
  std::uint64_t sum = 0;
  for (const auto& separator : levels.back()) sum += separator.second;
  if (sum != c_.size()) return broken("top level counts " + std::to_string(sum));
  if (levels.back().size() > 2 * shape_.fanout) return broken("top level over 2F separators");
  return Status::ok();
}

}  // namespace cascade::types
