// Values written to the value log when they are written to the engine, not at flush
// (DBOptions::separate_at_write; db.h, "Write path"). Without it a large value crosses the
// disk twice before any compaction: whole in the WAL, then compressed in a value-log file
// at flush. With it the WAL record holds a ValuePointer (a kValuePointer record of the
// batch) and the value is written once, compressed, to a value-log file of the memtable
// it went to; the memtable keeps the value itself, so reads never follow these pointers
// before the flush, and the flush gives the table the pointers the writes already made.
//
// VlogAppender: one such file while it is written. The format is the value-log file's
// (vlog_format.h): the header page, records back to back, and at the flush the zero
// padding and the footer page. Records are in arrival order, not key order.
//
// Durability. append() only copies the record into memory (the write path must not
// suspend between taking its sequences and inserting into the memtable). Before a write
// that logged values is acknowledged, its writer calls write_out() (every byte appended so
// far handed to the file: a process crash keeps it) or, if the write must be durable,
// sync() (a power loss keeps it) on every open appender of the engine, oldest first; a
// durable write that logged none syncs them too (the rules in full: FORMAT.md, "Values
// logged at write time"). Because appends happen in sequence order and write_out()/sync()
// cover everything appended before the call, an acknowledged write implies that every
// record of every lower sequence is as durable as its own. Recovery relies on that: the
// first WAL record whose pointer finds no intact record ends the replay, and what follows
// it was never acknowledged (engine/recovery.h).
//
// Pending bytes go to the file in pieces of at most kWritePiece, the fiber yielding
// between them (a plain pwrite copies into the page cache without suspending, and a
// 64 MiB value held the thread for its whole copy).
//
// One shard; append() never suspends, the others may.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/format/internal_key.h"
#include "engine/table/block_compression.h"
#include "engine/vlog/value_compression.h"
#include "engine/vlog/value_pointer.h"
#include "src/runtime/condition_variable.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

class VlogAppender {
 public:
  // Creates (truncating a leftover of the same number) "NNNNNN.vlog" in `dir`.
  static Result<std::shared_ptr<VlogAppender>> create(runtime::FileSystem& fs,
                                                      const std::string& dir,
                                                      std::uint64_t file_number,
                                                      const CompressionOptions& compression,
                                                      ValueCompressionStats* stats = nullptr);
  ~VlogAppender();
  VlogAppender(const VlogAppender&) = delete;
  VlogAppender& operator=(const VlogAppender&) = delete;

  // Space. The file is allocated ahead of its records (and of its footer), so a write into
  // it never fails for space: a full disk fails reserve(), before the write takes its
  // sequences, and the engine stays writable once space returns.
  //
  // Whether `bytes` more can be appended without a reserve().
  bool has_room(std::uint64_t bytes) const;
  // Allocates at least `bytes` past the records and the footer's room (suspends).
  Status reserve(std::uint64_t bytes);

  static constexpr std::size_t kWritePiece = std::size_t{1} << 20;

  // Appends the record of (key, value); the pointer carries the value's first
  // `head_size` bytes (at most kMaxValueHeadSize). Never suspends. Requires !finished()
  // and has_room() for the record (record_bound()).
  ValuePointer append(std::string_view key, std::string_view value, std::size_t head_size);
  // The same for a value whose stored form is made already (a large value compressed
  // before its write took its sequences: LargeValueCompressor); `value` is the raw value.
  ValuePointer append_stored(std::string_view key, std::string_view value,
                             const StoredValue& stored, std::size_t head_size);
  // The most a record of this key and value can take.
  static std::uint64_t record_bound(std::size_t key_size, std::size_t value_size);

  // Every byte appended before the call is in the file (a process crash keeps it).
  Status write_out();
  // Every byte appended before the call is durable.
  Status sync();
  // Writes out what is left, the padding and the footer, syncs and closes the file; the
  // file's size. Idempotent: a second call returns the same size. No append() after it.
  Result<std::uint64_t> finish();

  std::uint64_t file_number() const { return file_number_; }
  // The offset just past the last record: what the file holds before its footer.
  std::uint64_t end() const { return appended_; }
  bool finished() const { return finished_size_ != 0; }
  // Whether every byte appended so far is in the file, or durable.
  bool written_out() const { return written_ >= appended_; }
  bool synced() const { return synced_ >= appended_; }

  // Finishes a file recovery found unfinished (its appender died in a crash) whose
  // records the WAL names up to `data_end`: the padding and the footer go right after
  // `data_end` (whatever followed was never acknowledged), the file is cut after the
  // footer and synced. Returns the file's size.
  static Result<std::uint64_t> finish_recovered(runtime::FileSystem& fs, const std::string& dir,
                                                std::uint64_t file_number,
                                                std::uint64_t data_end,
                                                std::uint64_t record_count);

 private:
  VlogAppender(std::unique_ptr<runtime::FileHandle> file, std::uint64_t file_number,
               const CompressionOptions& compression, ValueCompressionStats* stats);
  ValuePointer append_record(std::string_view key, std::string_view value, CompressionType type,
                             std::string_view stored, std::size_t head_size);
  Status write_out_through(std::uint64_t target);
  // While finish() runs: waits for its sync, which covers every record.
  Status wait_finished();

  std::unique_ptr<runtime::FileHandle> file_;
  const std::uint64_t file_number_;
  ValueCompressor compressor_;
  std::string compressed_;  // reused by append()

  // Bytes [written_, appended_) wait in pending_; [synced_, written_) are in the file but
  // maybe not durable. At most one write and one sync run at a time.
  std::string pending_;
  std::uint64_t appended_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t synced_ = 0;
  std::uint64_t record_count_ = 0;
  std::uint64_t allocated_ = 0;  // the file's allocated size
  bool writing_ = false;
  bool syncing_ = false;
  bool finishing_ = false;
  int reserving_ = 0;  // reserve() calls in flight
  runtime::ConditionVariable progress_;
  Status error_;  // sticky: the file's state past written_ is unknown
  std::uint64_t finished_size_ = 0;
};

// The value-log records written at write time for one memtable's writes: its appenders
// (creation order), the unfinished files recovery found the WAL naming, and the pointer of
// every logged value by sequence number, which the flush gives the table instead of
// writing the value again.
struct LoggedValues {
  struct RecoveredFile {
    std::uint64_t file_number = 0;
    std::uint64_t data_end = 0;  // just past the last record the WAL names
    std::uint64_t record_count = 0;
  };

  std::vector<std::shared_ptr<VlogAppender>> appenders;
  std::vector<RecoveredFile> recovered;
  // Ascending sequences: values are logged as their sequences are taken.
  std::vector<std::pair<SequenceNumber, ValuePointer>> pointers;

  bool empty() const { return appenders.empty() && recovered.empty(); }
  // The pointer of the value written with `sequence`, or null if it was not logged.
  const ValuePointer* find(SequenceNumber sequence) const;
};

}  // namespace cascade::engine
