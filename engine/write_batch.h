// WriteBatch: an ordered list of writes applied atomically, and its encoding, which is also
// the payload of a WAL record (engine/FORMAT.md, "Write batch").
//
//   batch  = header | record * count
//   header = sequence (fixed64 LE) | count (fixed32 LE)              12 bytes
//   record = type (1 byte, a ValueType)
//            | key_size (varint32) | key bytes
//            | value_size (varint32) | value bytes                   absent for kDeletion
//
// Record i (counting from 0) is written with sequence number `sequence + i`, so a batch of
// n records uses sequences [sequence, sequence + n). The writer sets the sequence when the
// batch is committed; until then it is 0.
//
// A WriteBatch built by put()/del()/add() or accepted by from_contents() always holds a
// well-formed encoding. Decoding (Reader) still checks every length against the bytes left
// and never reads out of bounds: a truncated record, an unknown type, fewer or more records
// than `count`, or bytes after the last record are reported as Corruption.
//
// A WriteBatch is a plain value: single-threaded use, copy or move it between fibers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/format/internal_key.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct WriteBatchRecord {
  SequenceNumber sequence = 0;  // the batch's sequence + this record's index
  ValueType type = ValueType::kValue;
  std::string_view key;
  std::string_view value;  // empty for kDeletion
};

class WriteBatch {
 public:
  static constexpr std::size_t kHeaderSize = 12;

  WriteBatch() { clear(); }

  // Adopts an encoded batch (a WAL record payload) after checking all of it.
  static Result<WriteBatch> from_contents(std::string contents);

  void put(std::string_view key, std::string_view value) { add(ValueType::kValue, key, value); }
  // put(key, head + tail) without a copy of the two joined first (a record header and a
  // value that may be large). A tail of more than kPieceSize bytes is copied in pieces
  // with `between_pieces` (if given) after each but the last: the caller may give its
  // thread to others there, as a 64 MiB copy into fresh memory takes tens of milliseconds.
  // The batch must not be used by anyone else until the call returns.
  static constexpr std::size_t kPieceSize = std::size_t{1} << 20;
  void put_joined(std::string_view key, std::string_view head, std::string_view tail,
                  const std::function<void()>& between_pieces = {});
  void del(std::string_view key) { add(ValueType::kDeletion, key, {}); }
  // The generic form: `value` must be empty for kDeletion; for kValuePointer it is the
  // encoded value-log address. Key and value sizes must fit in 32 bits.
  void add(ValueType type, std::string_view key, std::string_view value);

  // True if a kValuePointer record was added (by add, append or from_contents). Only the
  // engine writes those (values logged at write time): DB::write refuses a caller's.
  bool has_value_pointers() const { return value_pointers_; }

  // Appends other's records after this batch's; this batch's sequence is kept.
  void append(const WriteBatch& other);
  void clear();

  SequenceNumber sequence() const;
  void set_sequence(SequenceNumber seq);
  std::uint32_t count() const;
  std::size_t byte_size() const { return rep_.size(); }
  std::string_view contents() const { return rep_; }

  // Calls fn(const WriteBatchRecord&) for each record in order. Stops at the first
  // malformed record and returns Corruption (records before it were already passed to fn).
  template <typename Fn>
  Status for_each(Fn&& fn) const;

  // Decodes an encoded batch record by record.
  class Reader {
   public:
    // Corruption if `contents` is shorter than the header.
    static Result<Reader> open(std::string_view contents);

    SequenceNumber sequence() const { return sequence_; }
    std::uint32_t count() const { return count_; }
    // True once `count` records were read; then finish() checks nothing else follows.
    bool done() const { return read_ == count_; }
    Result<WriteBatchRecord> next();  // requires !done()
    Status finish() const;

   private:
    Reader(std::string_view records, SequenceNumber sequence, std::uint32_t count)
        : rest_(records), sequence_(sequence), count_(count) {}
    Status corrupt_record(const std::string& what) const;

    std::string_view rest_;
    SequenceNumber sequence_;
    std::uint32_t count_;
    std::uint32_t read_ = 0;
  };

 private:
  void set_count(std::uint32_t n);

  std::string rep_;
  bool value_pointers_ = false;
};

template <typename Fn>
Status WriteBatch::for_each(Fn&& fn) const {
  Result<Reader> reader = Reader::open(rep_);
  if (!reader) return reader.error();
  while (!reader->done()) {
    Result<WriteBatchRecord> record = reader->next();
    if (!record) return record.error();
    fn(*record);
  }
  return reader->finish();
}

}  // namespace cascade::engine
