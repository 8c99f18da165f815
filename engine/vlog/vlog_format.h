// The value-log file format (engine/FORMAT.md, "Value log"). All integers little-endian.
//
//   file    = header page | record* | zero padding to a page boundary | footer page
//   header  = fixed64 magic | fixed32 version | fixed64 file_number | fixed32 checksum
//             (checksum of the 20 bytes before it, at offset 0), zeros to 4096 bytes
//   record  = fixed32 checksum | u8 compression | varint32 key_size
//             | varint64 value_size | varint64 stored_size | key | stored value
//   footer  = fixed64 magic | fixed32 version | fixed64 record_count | fixed64 data_end
//             | fixed32 checksum (of the 28 bytes before it, at the footer's offset),
//             zeros to 4096 bytes; the footer is the file's last page
//
// Records follow each other with no padding from offset 4096 to data_end. A record's
// checksum covers everything after the checksum field and is seeded with the file number
// and the record's offset (format/checksum.h), so an intact record read from the wrong
// file or offset fails verification. `value_size` is the value's size, `stored_size` the
// size of what follows the key: equal to value_size when compression is kNone, a zstd
// frame's size when kZstd. A value pointer (value_pointer.h) names a record by its offset
// and whole size.
//
// A file without a valid footer was never finished: a crash during its flush. The
// manifest never names such a file; recovery deletes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/table/block_compression.h"
#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::uint64_t kVlogMagic = 0x474f4c5663736163ULL;  // "cascVLOG" (LE bytes)
inline constexpr std::uint32_t kVlogFormatVersion = 1;
inline constexpr std::size_t kVlogHeaderSize = kPageSize;  // records start here
inline constexpr std::size_t kVlogFooterSize = kPageSize;
inline constexpr std::size_t kVlogRecordChecksumSize = 4;
// The largest record header: checksum, type, varint32 and two varint64s.
inline constexpr std::size_t kVlogMaxRecordHeaderSize = 4 + 1 + 5 + 10 + 10;
inline constexpr std::string_view kVlogFileExtension = "vlog";

// "NNNNNN.vlog".
std::string vlog_file_name(std::uint64_t file_number);

struct VlogFooter {
  std::uint64_t record_count = 0;
  std::uint64_t data_end = kVlogHeaderSize;  // just past the last record
  bool operator==(const VlogFooter&) const = default;
};

// A decoded record: views into the bytes it was decoded from.
struct VlogRecord {
  std::string_view key;
  CompressionType compression = CompressionType::kNone;
  std::uint64_t value_size = 0;
  std::string_view stored_value;
  std::size_t record_size = 0;  // header + key + stored value
};

// A page-sized header for file `file_number`.
std::string encode_vlog_header(std::uint64_t file_number);
// Checks magic, version (a newer one is NotSupported), checksum and file number.
Status decode_vlog_header(std::string_view page, std::uint64_t file_number);

// A page-sized footer placed at `offset` (a page boundary) of file `file_number`.
std::string encode_vlog_footer(const VlogFooter& footer, std::uint64_t file_number,
                               std::uint64_t offset);
Result<VlogFooter> decode_vlog_footer(std::string_view page, std::uint64_t file_number,
                                      std::uint64_t offset);

// Appends a record holding `key` and `stored_value` (value_size bytes once decompressed)
// that will sit at `offset` of file `file_number`.
void append_vlog_record(std::string& dst, std::uint64_t file_number, std::uint64_t offset,
                        std::string_view key, CompressionType compression,
                        std::uint64_t value_size, std::string_view stored_value);

// Decodes the record at the start of `bytes` (which may extend past it), read from
// `offset` of file `file_number`: Corruption on a bad header, a length past `bytes` or a
// checksum mismatch.
Result<VlogRecord> decode_vlog_record(std::string_view bytes, std::uint64_t file_number,
                                      std::uint64_t offset);

// The record's value, decompressed if it was stored compressed, appended to `out`.
Status append_record_value(const VlogRecord& record, std::string& out);

}  // namespace cascade::engine
