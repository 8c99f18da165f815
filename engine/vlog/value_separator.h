// ValueSeparator: moves a flush's large values into value-log files (BlobDB-style key-value
// separation at flush; DESIGN.md, "Value separation").
//
// Policy: a kValue entry whose value has at least `min_blob_size` bytes goes to the log
// (0 sends every value, SIZE_MAX none); the tree keeps a kValuePointer entry whose value is
// the encoded ValuePointer. One separator per flush (one writer per file): it opens a file
// "NNNNNN.vlog" on the first separated value, with a number from `new_file_number`, and
// rolls to a new one once a file passes `vlog_file_size`. Values are written in the order
// they come, which is key order during a flush, so a scan reads a file sequentially.
//
// finish() finishes and syncs every file and returns them for the version edit, each with
// garbage_bytes preset to its overhead (header, padding, footer): a file's garbage reaches
// its size exactly when no record in it is live. abandon() (or destruction without
// finish) removes every file written; the caller does so on any error.
//
// One fiber; add() and finish() suspend on IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/format/internal_key.h"
#include "engine/table/block_compression.h"
#include "engine/version/version_edit.h"
#include "engine/vlog/value_compression.h"
#include "engine/vlog/value_pointer.h"
#include "engine/vlog/vlog_format.h"
#include "engine/vlog/vlog_writer.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::size_t kDefaultMinBlobSize = 512;
inline constexpr std::uint64_t kDefaultVlogFileSize = std::uint64_t{64} << 20;

struct ValueSeparatorOptions {
  std::size_t min_blob_size = kDefaultMinBlobSize;
  // Each pointer keeps a copy of this many of its value's first bytes (value_pointer.h;
  // at most kMaxValueHeadSize, fewer for a shorter value).
  std::size_t value_head_size = 0;
  std::uint64_t vlog_file_size = kDefaultVlogFileSize;
  CompressionOptions compression;
  // Counts what became of the values given to compression (null: not counted); must
  // outlive the separator.
  ValueCompressionStats* compression_stats = nullptr;
};

class ValueSeparator {
 public:
  ValueSeparator(runtime::FileSystem& fs, std::string dir, const ValueSeparatorOptions& options,
                 std::function<std::uint64_t()> new_file_number);
  ~ValueSeparator();
  ValueSeparator(const ValueSeparator&) = delete;
  ValueSeparator& operator=(const ValueSeparator&) = delete;

  bool separates(ValueType type, std::string_view value) const {
    return type == ValueType::kValue && value.size() >= options_.min_blob_size;
  }
  // Writes the value to the current file; returns where it went, with the value's head.
  // Not while a reservation is open.
  Result<ValuePointer> add(std::string_view user_key, std::string_view value);
  // Reserves the place of a relocated record of `size` bytes whose bytes come later
  // (vlog_relocation.h: the reads of a batch of moves are issued together). The pointer
  // it returns has no head. Nothing when the open file is full and must roll first,
  // which needs every reservation filled. Reservations are filled in the order made.
  Result<std::optional<ValuePointer>> reserve(std::uint64_t size);
  // Fills the oldest open reservation, `at`, with `record` (its stored form, copied as
  // the records were before): Corruption if the record's size differs from the reservation.
  Status fill_reserved(const VlogRecord& record, const ValuePointer& at);
  std::uint64_t reserved_bytes() const { return reserved_bytes_; }
  std::size_t value_head_size() const { return options_.value_head_size; }
  // Finishes and syncs the open file; every file written, in order. Every reservation
  // must be filled.
  Result<std::vector<VlogFile>> finish();
  // Removes every file written (best effort).
  void abandon();

  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  // Opens a file if none is open or rolls past vlog_file_size.
  Status make_room();
  Status open_file();
  Status finish_file();

  runtime::FileSystem& fs_;
  const std::string dir_;
  const ValueSeparatorOptions options_;
  std::function<std::uint64_t()> new_file_number_;
  std::unique_ptr<runtime::FileHandle> file_;
  std::unique_ptr<VlogWriter> writer_;
  std::uint64_t record_bytes_ = 0;  // of the open file
  std::uint64_t reserved_bytes_ = 0;  // reserved in the open file, not yet filled
  std::vector<VlogFile> finished_;
  std::vector<std::uint64_t> created_;  // every file number opened
  std::uint64_t bytes_written_ = 0;
  bool done_ = false;
};

}  // namespace cascade::engine
