// BlockBuilder: the writer of the block layout described in block.h.
#include "engine/table/block_builder.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

#include "engine/format/coding.h"

namespace cascade::engine {

namespace {
constexpr std::size_t kRestartSlotSize = 2;
}

BlockBuilder::BlockBuilder(const BlockBuilderOptions& options) : options_(options) {
  options_.restart_interval = std::max(options_.restart_interval, 1);
  options_.size_cap = std::min(options_.size_cap, kMaxBlockSize);
}

bool BlockBuilder::starts_restart() const {
  return empty() || entries_since_restart_ >= options_.restart_interval;
}

std::size_t BlockBuilder::shared_prefix(std::string_view key) const {
  if (starts_restart()) return 0;
  std::size_t limit = std::min(key.size(), last_key_.size());
  auto mismatch = std::mismatch(key.begin(), key.begin() + limit, last_key_.begin());
  return static_cast<std::size_t>(mismatch.first - key.begin());
}

std::size_t BlockBuilder::current_size() const {
  return buffer_.size() + kRestartSlotSize * (restarts_.size() + 1);
}

std::size_t BlockBuilder::size_after(std::string_view key, std::string_view value) const {
  std::size_t shared = shared_prefix(key);
  std::size_t non_shared = key.size() - shared;
  std::size_t entry = varint_length(shared) + varint_length(non_shared) +
                      varint_length(value.size()) + non_shared + value.size();
  return current_size() + entry + (starts_restart() ? kRestartSlotSize : 0);
}

bool BlockBuilder::fits(std::string_view key, std::string_view value) const {
  return empty() || size_after(key, value) <= options_.size_cap;
}

Status BlockBuilder::add(std::string_view key, std::string_view value) {
  assert(!finished_);
  const KeyComparator& order = options_.comparator;
  if (key.size() < order.min_key_size) return Status::invalid_argument("block key too short");
  if (!empty() && order.compare(last_key_, key) >= 0) {
    return Status::invalid_argument("block keys must strictly increase");
  }
  if (key.size() > UINT32_MAX || value.size() > UINT32_MAX) {
    return Status::invalid_argument("block entry larger than 4 GiB");
  }
  if (!fits(key, value)) return Status::invalid_argument("entry does not fit in the block");
  append_entry(key, value);
  return Status::ok();
}

void BlockBuilder::append_entry(std::string_view key, std::string_view value) {
  std::size_t shared = shared_prefix(key);
  if (starts_restart()) {
    // Offsets below 64 KiB: a non-empty block is capped at 32 KiB, an empty one starts at 0.
    restarts_.push_back(static_cast<std::uint16_t>(buffer_.size()));
    entries_since_restart_ = 0;
  }
  put_varint32(buffer_, static_cast<std::uint32_t>(shared));
  put_varint32(buffer_, static_cast<std::uint32_t>(key.size() - shared));
  put_varint32(buffer_, static_cast<std::uint32_t>(value.size()));
  buffer_.append(key.substr(shared));
  buffer_.append(value);
  entry_ends_.push_back(static_cast<std::uint32_t>(buffer_.size()));

  last_key_.assign(key);
  ++entries_since_restart_;
  ++num_entries_;
}

std::string_view BlockBuilder::finish() {
  if (finished_) return buffer_;
  for (std::uint16_t r : restarts_) put_fixed16(buffer_, r);
  put_fixed16(buffer_, static_cast<std::uint16_t>(restarts_.size()));
  finished_ = true;
  return buffer_;
}

std::size_t BlockBuilder::prefix_size(std::size_t count) const {
  assert(count > 0 && count <= num_entries_);
  std::uint32_t end = entry_ends_[count - 1];
  auto restarts = std::lower_bound(restarts_.begin(), restarts_.end(), end) - restarts_.begin();
  return end + kRestartSlotSize * (static_cast<std::size_t>(restarts) + 1);
}

std::string_view BlockBuilder::prefix_block(std::size_t count) {
  assert(count > 0 && count <= num_entries_);
  std::uint32_t end = entry_ends_[count - 1];
  prefix_block_.assign(buffer_, 0, end);
  std::uint16_t kept_restarts = 0;
  for (std::uint16_t r : restarts_) {
    if (r >= end) break;
    put_fixed16(prefix_block_, r);
    ++kept_restarts;
  }
  put_fixed16(prefix_block_, kept_restarts);
  return prefix_block_;
}

void BlockBuilder::remove_first(std::size_t count) {
  assert(count > 0 && count <= num_entries_);
  // Read the later entries back with the block reader, then start over with them. They
  // were in order, and re-encoded they take no more room than before (the prefix held
  // every byte the first of them shared), so they are appended without the checks.
  std::string whole(finish());
  auto block = Block::open(BlockContents{whole, nullptr});
  assert(block.has_value());
  BlockIterator it = block->iterator(options_.comparator);
  std::vector<std::pair<std::string, std::string>> later;
  std::size_t index = 0;
  for (it.seek_to_first(); it.valid(); it.next(), ++index) {
    if (index >= count) later.emplace_back(it.key(), it.value());
  }
  reset();
  for (const auto& [key, value] : later) append_entry(key, value);
}

void BlockBuilder::reset() {
  buffer_.clear();
  restarts_.clear();
  entry_ends_.clear();
  entries_since_restart_ = 0;
  num_entries_ = 0;
  last_key_.clear();
  finished_ = false;
}

}  // namespace cascade::engine
