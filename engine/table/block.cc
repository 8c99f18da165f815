// Block reader and iterator; the layout and the invariants checked here are in block.h.
//
// Every decode goes through decode_entry_header, which never reads at or past `limit` (the
// start of the restart array), and every length it returns has been checked to fit before
// `limit`. Offsets are 32-bit: Block::open refuses a block of 4 GiB or more.
#include "engine/table/block.h"

#include <cassert>
#include <cstring>
#include <string>

#include "engine/format/coding.h"

namespace cascade::engine {

namespace {

constexpr std::size_t kRestartSlotSize = 2;

struct EntryHeader {
  std::uint32_t shared = 0;
  std::uint32_t non_shared = 0;
  std::uint32_t value_length = 0;
};

// Decodes the three varints at p and checks that the key suffix and value fit before
// limit. Returns a pointer to the key suffix, or nullptr if the entry is malformed.
const char* decode_entry_header(const char* p, const char* limit, EntryHeader& h) {
  if (limit - p < 3) return nullptr;
  auto u0 = static_cast<unsigned char>(p[0]);
  auto u1 = static_cast<unsigned char>(p[1]);
  auto u2 = static_cast<unsigned char>(p[2]);
  if ((u0 | u1 | u2) < 0x80) {  // common case: each varint is one byte
    h = {u0, u1, u2};
    p += 3;
  } else {
    std::string_view in(p, static_cast<std::size_t>(limit - p));
    if (!get_varint32(in, h.shared) || !get_varint32(in, h.non_shared) ||
        !get_varint32(in, h.value_length)) {
      return nullptr;
    }
    p = in.data();
  }
  std::uint64_t body = std::uint64_t{h.non_shared} + h.value_length;
  if (body > static_cast<std::uint64_t>(limit - p)) return nullptr;
  return p;
}

}  // namespace

CacheLineBuffer allocate_cache_line_aligned(std::size_t size) {
  return CacheLineBuffer(static_cast<char*>(::operator new[](size, std::align_val_t{64})));
}

BlockContents owning(BlockContents contents) {
  if (contents.owned != nullptr) return contents;
  std::string_view d = contents.data;
  CacheLineBuffer copy = allocate_cache_line_aligned(d.empty() ? 1 : d.size());
  if (!d.empty()) std::memcpy(copy.get(), d.data(), d.size());
  return BlockContents{std::string_view(copy.get(), d.size()), std::move(copy)};
}

Result<Block> Block::open(BlockContents contents) {
  std::string_view d = contents.data;
  if (d.size() < kRestartSlotSize) return Status::corruption("block shorter than its trailer");
  if (d.size() > UINT32_MAX) return Status::corruption("block larger than 4 GiB");
  std::uint32_t n = load_fixed16(d.data() + d.size() - kRestartSlotSize);
  std::size_t trailer = kRestartSlotSize * (std::size_t{n} + 1);
  if (trailer > d.size()) return Status::corruption("block restart count exceeds its size");
  auto restarts_offset = static_cast<std::uint32_t>(d.size() - trailer);
  if (n == 0 && restarts_offset != 0) return Status::corruption("block has entries but no restarts");
  const char* array = d.data() + restarts_offset;
  std::uint32_t previous = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t r = load_fixed16(array + kRestartSlotSize * i);
    bool ordered = (i == 0) ? r == 0 : r > previous;
    if (!ordered || r >= restarts_offset) return Status::corruption("block restart array out of order");
    previous = r;
  }
  return Block(std::move(contents), restarts_offset, n);
}

BlockIterator Block::iterator(const KeyComparator& comparator) const {
  return BlockIterator(contents_.data.data(), restarts_offset_, num_restarts_, comparator);
}

std::uint32_t BlockIterator::restart_point(std::uint32_t index) const {
  assert(index < num_restarts_);
  return load_fixed16(data_ + restarts_offset_ + kRestartSlotSize * index);
}

void BlockIterator::mark_invalid() {
  current_ = next_ = restarts_offset_;
  restart_index_ = num_restarts_;
  key_ = {};
  value_ = {};
}

void BlockIterator::mark_corrupt(const char* what) {
  mark_invalid();
  if (status_.is_ok()) status_ = Status::corruption(std::string("bad block entry: ") + what);
}

// The next parse_next_entry() decodes the restart entry `index`, with no previous key.
void BlockIterator::start_at_restart(std::uint32_t index) {
  restart_index_ = index;
  next_ = restart_point(index);
  key_ = {};
}

// Decodes the entry at next_ and makes it current; false at the end or on corruption.
bool BlockIterator::parse_next_entry() {
  current_ = next_;
  if (current_ >= restarts_offset_) {
    mark_invalid();
    return false;
  }
  const char* limit = data_ + restarts_offset_;
  EntryHeader h;
  const char* p = decode_entry_header(data_ + current_, limit, h);
  if (p == nullptr) {
    mark_corrupt("entry overruns the block");
    return false;
  }
  if (h.shared > key_.size()) {
    mark_corrupt("shared prefix longer than the previous key");
    return false;
  }
  if (h.shared == 0) {
    key_ = std::string_view(p, h.non_shared);  // stored whole: view the block, no copy
  } else {
    if (key_.data() != key_buf_.data()) {
      key_buf_.assign(key_.data(), h.shared);
    } else {
      key_buf_.resize(h.shared);
    }
    key_buf_.append(p, h.non_shared);
    key_ = key_buf_;
  }
  if (key_.size() < comparator_.min_key_size) {
    mark_corrupt("key shorter than the key order allows");
    return false;
  }
  value_ = std::string_view(p + h.non_shared, h.value_length);
  next_ = static_cast<std::uint32_t>(value_.data() + value_.size() - data_);
  while (restart_index_ + 1 < num_restarts_ && restart_point(restart_index_ + 1) <= current_) {
    ++restart_index_;
  }
  return true;
}

void BlockIterator::seek_to_first() {
  if (!status_.is_ok() || num_restarts_ == 0) return mark_invalid();
  start_at_restart(0);
  parse_next_entry();
}

void BlockIterator::seek_to_last() {
  if (!status_.is_ok() || num_restarts_ == 0) return mark_invalid();
  start_at_restart(num_restarts_ - 1);
  while (parse_next_entry() && next_ < restarts_offset_) {
  }
}

void BlockIterator::next() {
  assert(valid());
  parse_next_entry();
}

void BlockIterator::prev() {
  assert(valid());
  const std::uint32_t original = current_;
  while (restart_point(restart_index_) >= original) {
    if (restart_index_ == 0) return mark_invalid();  // was at the first entry
    --restart_index_;
  }
  start_at_restart(restart_index_);
  do {
    if (!parse_next_entry()) return;
  } while (next_ < original);
  if (next_ != original) mark_corrupt("restart point inside an entry");
}

// Decodes the whole key stored at restart `index` (shared must be 0 there).
bool BlockIterator::restart_key(std::uint32_t index, std::string_view& key) {
  EntryHeader h;
  const char* p = decode_entry_header(data_ + restart_point(index), data_ + restarts_offset_, h);
  if (p == nullptr || h.shared != 0) {
    mark_corrupt("malformed restart entry");
    return false;
  }
  if (h.non_shared < comparator_.min_key_size) {
    mark_corrupt("key shorter than the key order allows");
    return false;
  }
  key = std::string_view(p, h.non_shared);
  return true;
}

// The last restart whose key is < target (0 if none is): the target, if present, lies in
// that restart's interval. Sets a Corruption status (and returns 0) on a bad restart entry.
std::uint32_t BlockIterator::find_restart_before(std::string_view target) {
  std::uint32_t left = 0, right = num_restarts_ - 1;
  while (left < right) {
    std::uint32_t mid = left + (right - left + 1) / 2;
    std::string_view key;
    if (!restart_key(mid, key)) return 0;
    if (comparator_.compare(key, target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  return left;
}

void BlockIterator::seek(std::string_view target) {
  if (!status_.is_ok() || num_restarts_ == 0) return mark_invalid();
  std::uint32_t restart = find_restart_before(target);
  if (!status_.is_ok()) return;
  start_at_restart(restart);
  while (parse_next_entry()) {
    if (comparator_.compare(key_, target) >= 0) return;
  }
}

}  // namespace cascade::engine
