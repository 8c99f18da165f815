// VersionEdit: one change to the set of files, the payload of one manifest record
// (engine/FORMAT.md, "Manifest"). The first record of every manifest is a snapshot: an edit
// that adds every live file to an empty version and sets every scalar.
//
//   edit  = field*                         in any order; an empty edit is valid
//   field = tag (varint32) | size (varint32) | body (size bytes)
//
// Every field is length-delimited, so a reader can step over a field it does not know. A
// tag with kTagSafeToIgnore (bit 12) set marks a field an older reader may skip without
// misreading the state (a statistic, a hint); an unknown tag without that bit is
// Corruption, since silently ignoring it could drop a file from the version. A body must be
// consumed exactly: bytes left over, or a body shorter than its fields, are Corruption.
//
//   tag  body
//   1    next_file_number      varint64
//   2    last_sequence         varint64
//   3    flushed_sequence      varint64  every write with sequence <= it is in a table: the
//                                        WAL is replayed only above it
//   4    shard                 varint32 shard_id | varint32 shard_count
//   5    wal_layout            varint32 segment_count | varint64 segment_size
//   6    wal segment added     varint64 file_number
//   7    wal segment removed   varint64 file_number
//   10   table added           varint32 level | varint64 file_number | varint64 file_size
//                              | varint64 smallest_sequence | varint64 largest_sequence
//                              | length-prefixed smallest internal key
//                              | length-prefixed largest internal key
//   11   table removed         varint32 level | varint64 file_number
//   12   vlog file added       varint64 file_number | varint64 file_size
//                              | varint64 garbage_bytes
//   13   vlog file removed     varint64 file_number
//   14   vlog garbage          varint64 file_number | varint64 more_garbage_bytes (a delta)
//   4111 table's oldest vlog   varint64 table file_number | varint64 vlog file_number
//        (15 | safe to ignore) the smallest value-log file any pointer in the table names;
//                              only for a table added by the same edit (a hint for
//                              value-log GC: a reader that skips it loses no file)
//
// Tag numbers never change meaning; a new field takes a new number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/format/internal_key.h"
#include "src/runtime/result.h"

namespace cascade::engine {

constexpr int kNumLevels = 7;

// A table file as the version knows it. Immutable once it is in a version.
struct TableFile {
  std::uint64_t file_number = 0;
  std::uint64_t file_size = 0;
  std::string smallest;  // internal keys, inclusive
  std::string largest;
  SequenceNumber smallest_sequence = 0;
  SequenceNumber largest_sequence = 0;
  // The smallest value-log file number any kValuePointer entry of the table names; 0 if it
  // holds no pointer (or was added without tag 4111). Exact when written: a value-log file
  // stays in the version while any pointer names it, so no older file can be pointed to.
  // The compaction picker finds the tables to rewrite for value-log GC by it.
  std::uint64_t oldest_vlog = 0;

  std::string_view smallest_user_key() const { return extract_user_key(smallest); }
  std::string_view largest_user_key() const { return extract_user_key(largest); }
  bool operator==(const TableFile&) const = default;
};

// A value-log file: `file_size` bytes of values, `garbage_bytes` of them no longer
// referenced by any table (compaction counts them as it drops pointers).
struct VlogFile {
  std::uint64_t file_number = 0;
  std::uint64_t file_size = 0;
  std::uint64_t garbage_bytes = 0;

  std::uint64_t live_bytes() const { return file_size - garbage_bytes; }
  bool operator==(const VlogFile&) const = default;
};

struct ShardIdentity {
  std::uint32_t shard_id = 0;
  std::uint32_t shard_count = 0;
  bool operator==(const ShardIdentity&) const = default;
};

struct WalLayout {
  std::uint32_t segment_count = 0;
  std::uint64_t segment_size = 0;
  bool operator==(const WalLayout&) const = default;
};

struct TableAdded {
  int level = 0;
  TableFile file;
  bool operator==(const TableAdded&) const = default;
};
struct TableRemoved {
  int level = 0;
  std::uint64_t file_number = 0;
  bool operator==(const TableRemoved&) const = default;
};
struct VlogGarbage {
  std::uint64_t file_number = 0;
  std::uint64_t more_garbage_bytes = 0;
  bool operator==(const VlogGarbage&) const = default;
};

class VersionEdit {
 public:
  // Tag numbers as written to disk (see the file comment).
  enum Tag : std::uint32_t {
    kNextFileNumber = 1,
    kLastSequence = 2,
    kFlushedSequence = 3,
    kShard = 4,
    kWalLayout = 5,
    kWalSegmentAdded = 6,
    kWalSegmentRemoved = 7,
    kTableAdded = 10,
    kTableRemoved = 11,
    kVlogAdded = 12,
    kVlogRemoved = 13,
    kVlogGarbage = 14,
    kTableOldestVlog = 15 | (1u << 12),
  };
  static constexpr std::uint32_t kTagSafeToIgnore = 1u << 12;

  void set_next_file_number(std::uint64_t n) { next_file_number = n; }
  void set_last_sequence(SequenceNumber s) { last_sequence = s; }
  void set_flushed_sequence(SequenceNumber s) { flushed_sequence = s; }

  void add_table(int level, TableFile file) { tables_added.push_back({level, std::move(file)}); }
  void remove_table(int level, std::uint64_t file_number) {
    tables_removed.push_back({level, file_number});
  }
  void add_vlog(VlogFile file) { vlogs_added.push_back(file); }
  void remove_vlog(std::uint64_t file_number) { vlogs_removed.push_back(file_number); }
  void add_vlog_garbage(std::uint64_t file_number, std::uint64_t bytes) {
    vlog_garbage.push_back({file_number, bytes});
  }
  void add_wal_segment(std::uint64_t file_number) { wal_segments_added.push_back(file_number); }
  void remove_wal_segment(std::uint64_t file_number) {
    wal_segments_removed.push_back(file_number);
  }

  // True if the edit names any new file (the directory must be synced before it is logged).
  bool adds_files() const {
    return !tables_added.empty() || !vlogs_added.empty() || !wal_segments_added.empty();
  }

  void encode_to(std::string& dst) const;
  // Replaces *this with the decoded edit; Corruption on any malformed or unknown field.
  Status decode_from(std::string_view src);

  std::string debug_string() const;
  bool operator==(const VersionEdit&) const = default;

  // Plain data: the fields are the edit. Applied in this order: removals, then additions.
  std::optional<std::uint64_t> next_file_number;
  std::optional<SequenceNumber> last_sequence;
  std::optional<SequenceNumber> flushed_sequence;
  std::optional<ShardIdentity> shard;
  std::optional<WalLayout> wal_layout;
  std::vector<std::uint64_t> wal_segments_added;
  std::vector<std::uint64_t> wal_segments_removed;
  std::vector<TableAdded> tables_added;
  std::vector<TableRemoved> tables_removed;
  std::vector<VlogFile> vlogs_added;
  std::vector<std::uint64_t> vlogs_removed;
  std::vector<VlogGarbage> vlog_garbage;
};

}  // namespace cascade::engine
