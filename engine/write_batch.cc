// See write_batch.h for the encoding and engine/FORMAT.md for the same, byte by byte.
#include "engine/write_batch.h"

#include <algorithm>
#include <cassert>

#include "engine/format/coding.h"

namespace cascade::engine {
namespace {

// A varint32 length and that many bytes, all within `in`.
bool get_sized_bytes(std::string_view& in, std::string_view& out) {
  std::string_view probe = in;
  std::uint32_t n;
  if (!get_varint32(probe, n) || n > probe.size()) return false;
  out = probe.substr(0, n);
  in = probe.substr(n);
  return true;
}

bool is_known_type(std::uint8_t type) {
  return type <= static_cast<std::uint8_t>(kMaxValueType);
}

}  // namespace

Result<WriteBatch> WriteBatch::from_contents(std::string contents) {
  Result<Reader> reader = Reader::open(contents);
  if (!reader) return reader.error();
  bool pointers = false;
  while (!reader->done()) {
    Result<WriteBatchRecord> record = reader->next();
    if (!record) return record.error();
    pointers = pointers || record->type == ValueType::kValuePointer;
  }
  if (Status s = reader->finish(); !s) return s;
  WriteBatch batch;
  batch.rep_ = std::move(contents);
  batch.value_pointers_ = pointers;
  return batch;
}

void WriteBatch::add(ValueType type, std::string_view key, std::string_view value) {
  assert(type != ValueType::kDeletion || value.empty());
  assert(key.size() <= UINT32_MAX && value.size() <= UINT32_MAX);
  assert(count() < UINT32_MAX);
  set_count(count() + 1);
  value_pointers_ = value_pointers_ || type == ValueType::kValuePointer;
  rep_.push_back(static_cast<char>(type));
  put_varint32(rep_, static_cast<std::uint32_t>(key.size()));
  rep_.append(key);
  if (type != ValueType::kDeletion) {
    put_varint32(rep_, static_cast<std::uint32_t>(value.size()));
    rep_.append(value);
  }
}

void WriteBatch::put_joined(std::string_view key, std::string_view head, std::string_view tail,
                            const std::function<void()>& between_pieces) {
  const std::size_t size = head.size() + tail.size();
  assert(key.size() <= UINT32_MAX && size <= UINT32_MAX);
  assert(count() < UINT32_MAX);
  set_count(count() + 1);
  rep_.push_back(static_cast<char>(ValueType::kValue));
  put_varint32(rep_, static_cast<std::uint32_t>(key.size()));
  rep_.append(key);
  put_varint32(rep_, static_cast<std::uint32_t>(size));
  rep_.append(head);
  if (tail.size() <= kPieceSize || !between_pieces) {
    rep_.append(tail);
    return;
  }
  rep_.reserve(rep_.size() + tail.size());  // the pieces then never move what came before
  while (!tail.empty()) {
    const std::size_t n = std::min(tail.size(), kPieceSize);
    rep_.append(tail.substr(0, n));
    tail.remove_prefix(n);
    if (!tail.empty()) between_pieces();
  }
}

void WriteBatch::append(const WriteBatch& other) {
  assert(std::uint64_t{count()} + other.count() <= UINT32_MAX);
  set_count(count() + other.count());
  value_pointers_ = value_pointers_ || other.value_pointers_;
  rep_.append(other.rep_, kHeaderSize);
}

void WriteBatch::clear() {
  rep_.assign(kHeaderSize, '\0');
  value_pointers_ = false;
}

SequenceNumber WriteBatch::sequence() const { return load_fixed64(rep_.data()); }
void WriteBatch::set_sequence(SequenceNumber seq) { store_fixed64(rep_.data(), seq); }
std::uint32_t WriteBatch::count() const { return load_fixed32(rep_.data() + 8); }
void WriteBatch::set_count(std::uint32_t n) { store_fixed32(rep_.data() + 8, n); }

Result<WriteBatch::Reader> WriteBatch::Reader::open(std::string_view contents) {
  if (contents.size() < kHeaderSize) {
    return Status::corruption("write batch: " + std::to_string(contents.size()) +
                              " bytes, shorter than its 12-byte header");
  }
  return Reader(contents.substr(kHeaderSize), load_fixed64(contents.data()),
                load_fixed32(contents.data() + 8));
}

Result<WriteBatchRecord> WriteBatch::Reader::next() {
  assert(!done());
  if (rest_.empty()) return corrupt_record("missing (batch truncated)");
  auto type = static_cast<std::uint8_t>(rest_[0]);
  if (!is_known_type(type)) return corrupt_record("unknown type " + std::to_string(type));
  rest_.remove_prefix(1);
  WriteBatchRecord record;
  record.sequence = sequence_ + read_;
  record.type = static_cast<ValueType>(type);
  if (!get_sized_bytes(rest_, record.key)) return corrupt_record("key runs past the end");
  if (record.type != ValueType::kDeletion && !get_sized_bytes(rest_, record.value)) {
    return corrupt_record("value runs past the end");
  }
  ++read_;
  return record;
}

// Built only on failure: decoding a good batch allocates nothing.
Status WriteBatch::Reader::corrupt_record(const std::string& what) const {
  return Status::corruption("write batch record " + std::to_string(read_) + " of " +
                            std::to_string(count_) + ": " + what);
}

Status WriteBatch::Reader::finish() const {
  if (!rest_.empty()) {
    return Status::corruption("write batch: " + std::to_string(rest_.size()) +
                              " bytes after the " + std::to_string(count_) +
                              " records its header counts");
  }
  return Status::ok();
}

}  // namespace cascade::engine
