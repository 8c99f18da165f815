// The manifest file: a header, then a log of records, each the encoding of one VersionEdit
// (engine/FORMAT.md, "Manifest").
//
//   header (16 bytes, at offset 0)
//     fixed64  magic     kManifestMagic
//     fixed32  version   kManifestFormatVersion; a newer one is refused (NotSupported)
//     fixed32  checksum  of the 12 bytes above, seeded with (file_number, 0)
//   record (at offset o, right after the header or the previous record)
//     fixed32  checksum  of the next 4 + length bytes (length and payload), seeded with
//                        (file_number, o)
//     fixed32  length    of the payload, 1 .. kMaxManifestRecord
//     payload  length bytes
//
// IO: buffered writes (not O_DIRECT) and one sync per record; records are small and rare,
// so padding each to 4 KiB would cost more than the page-cache copy. The writer appends
// records strictly one after another and a record is acknowledged only after its sync.
//
// Recovery (read_manifest) therefore knows that only the last record can be torn: a record
// that is truncated or fails its checksum, with no valid record anywhere after it, is a
// torn tail and is dropped (it was never acknowledged). A bad record followed by a valid
// one is Corruption: acknowledged data was damaged, and nothing is truncated silently. The
// search for "a valid record after it" tries every later offset; the offset in the seed
// makes a false match there as unlikely as any checksum collision.
//
// A ManifestWriter belongs to one fiber at a time (the VersionSet serializes its callers).
// After any failed write or sync it refuses further records: the file's tail is in doubt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

constexpr std::uint64_t kManifestMagic = 0x31464e4d44435343ull;  // "CSCDMNF1" little-endian
constexpr std::uint32_t kManifestFormatVersion = 1;
constexpr std::size_t kManifestHeaderSize = 16;
constexpr std::size_t kManifestRecordHeaderSize = 8;
constexpr std::uint32_t kMaxManifestRecord = 256u << 20;

class ManifestWriter {
 public:
  // Creates `path` (it must not exist) and writes the header; nothing is synced yet.
  static Result<std::unique_ptr<ManifestWriter>> create(runtime::FileSystem& fs,
                                                        const std::string& path,
                                                        std::uint64_t file_number);

  // Appends one record (not synced).
  Status add_record(std::string_view payload);
  // Makes every record added so far durable.
  Status sync();
  Status close();

  std::uint64_t file_number() const { return file_number_; }
  std::uint64_t size() const { return size_; }

 private:
  ManifestWriter(std::unique_ptr<runtime::FileHandle> file, std::uint64_t file_number)
      : file_(std::move(file)), file_number_(file_number) {}
  Status write(std::string_view bytes);

  std::unique_ptr<runtime::FileHandle> file_;
  std::uint64_t file_number_;
  std::uint64_t size_ = 0;
  Status failed_;  // the first failure; sticky
};

struct ManifestContents {
  std::vector<std::string> records;  // payloads in order
  std::uint64_t valid_bytes = 0;     // header + every valid record
  std::uint64_t dropped_tail_bytes = 0;  // a torn last record (and anything after it)
};

// Reads every record of the manifest at `path`. Corruption for a bad header or a damaged
// record followed by valid ones; NotSupported for a newer format version.
Result<ManifestContents> read_manifest(runtime::FileSystem& fs, const std::string& path,
                                       std::uint64_t file_number);

}  // namespace cascade::engine
