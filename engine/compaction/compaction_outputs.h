// CompactionOutputs: the output tables of one compaction job, cut by size and by overlap
// with the grandparent level.
//
// add() takes entries in strictly increasing internal-key order. A new table is started
// only between two user keys (never between two versions of one key, so no key straddles
// two tables of a level): before the first entry of a new user key, the current table is
// finished if it passed the target file size, or if the user keys it spans overlap more
// than max_grandparent_overlap bytes of grandparent tables (a later compaction of it into
// the next level then reads a bounded amount).
//
// Each table records the oldest value-log file its kValuePointer entries name
// (TableFile::oldest_vlog), for the picker's value-log GC.
//
// finish_table() writes the table's index, filter and footer and syncs it (TableBuilder),
// then closes the file. The caller syncs the directory (VersionSet::log_and_apply does)
// before a version edit names the tables. abandon() removes every file this object
// created, finished or not (a failed job must leave nothing behind).
//
// Files are created through the FileSystem with O_DIRECT and written through a
// ThrottledFile. One fiber; add() and finish() may suspend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/compaction/compaction.h"
#include "engine/compaction/throttled_file.h"
#include "engine/table/table_builder.h"
#include "src/runtime/file_system.h"

namespace cascade::engine {

struct CompactionOutputOptions {
  std::string dir;
  std::uint64_t target_file_size = 0;
  std::uint64_t max_grandparent_overlap = 0;
  TableBuilderOptions builder;  // file_number is set per table
  std::function<std::uint64_t()> new_file_number;
  runtime::RateLimiter* rate_limiter = nullptr;
};

class CompactionOutputs {
 public:
  CompactionOutputs(runtime::FileSystem& fs, CompactionOutputOptions options,
                    const std::vector<TableFilePtr>& grandparents, IoByteCounters& counters)
      : fs_(fs), options_(std::move(options)), grandparents_(grandparents),
        counters_(counters) {}
  ~CompactionOutputs();

  Status add(std::string_view internal_key, std::string_view value);
  // Finishes the table being built, if any.
  Status finish();
  void abandon();

  const std::vector<TableFile>& tables() const { return tables_; }
  // Data blocks written so far, over every table (the job yields once per block).
  std::uint64_t data_blocks() const { return blocks_done_ + (builder_ ? builder_->num_data_blocks() : 0); }

 private:
  bool should_cut_before(std::string_view user_key);
  Status open_table();
  Status finish_table();
  // Tracks the smallest value-log file the table's pointers name (TableFile::oldest_vlog).
  void note_value_pointer(std::string_view internal_key, std::string_view value);

  runtime::FileSystem& fs_;
  CompactionOutputOptions options_;
  const std::vector<TableFilePtr>& grandparents_;
  IoByteCounters& counters_;

  std::unique_ptr<runtime::FileHandle> file_;
  std::unique_ptr<TableBuilder> builder_;
  std::uint64_t file_number_ = 0;
  std::uint64_t oldest_vlog_ = 0;  // of the table being built
  std::string last_user_key_;
  std::vector<TableFile> tables_;
  std::vector<std::uint64_t> created_;  // every file number created, for abandon()
  std::uint64_t blocks_done_ = 0;

  std::size_t grandparent_index_ = 0;
  std::uint64_t grandparent_overlap_ = 0;
  bool seen_key_ = false;
};

}  // namespace cascade::engine
