// VlogGc: the value log's side of compaction (compaction/compaction_value_hooks.h), one per
// DB: it counts the garbage compaction makes and relocates live values out of files picked
// for GC (DESIGN.md, "Value log"; engine/FORMAT.md, "Lifecycle, crashes and garbage").
//
// Per job (start_job), a handler:
// - counts every dropped kValuePointer entry's record as garbage of its file
//   (VlogGarbageTracker);
// - relocates every written kValuePointer entry whose file is picked for relocation
//   (files_to_relocate over the job's version, under `relocation`): the record is read
//   under that version (which the job holds, so the file is there) in batches of reads
//   issued together (VlogRelocator, vlog_relocation.h says why), copied in its stored form
//   to the job's own value-log files (ValueSeparator; a new file past
//   `separator.vlog_file_size`), and the old record counted as garbage; both the reads
//   and the write pass the rate limiter;
// - at finish, syncs the files it wrote and adds them (tag 12), the garbage deltas (tag 14)
//   and the removal of every file the garbage empties (tag 13) to the job's edit, so they
//   become durable with the compaction, in one manifest record. The emptiness is judged
//   against the version current at finish; a concurrent job's edit logged in between can
//   only hide an emptied file from it (never show a wrong one: each record is counted
//   once), which DB::retire_empty_vlogs catches after every compaction and at open.
// A handler destroyed without finish, or whose finish fails, removes the files it wrote:
// nothing names them. After finish they are the DB's: named by the edit, removed by it if
// the edit cannot be logged.
//
// Snapshots need nothing here: compaction keeps every version a snapshot can see (its
// pointer stays live, or moves with a relocation). An iterator holds its version, so the
// files it reads are deleted only once it is gone (ObsoleteVlogFiles).
//
// One shard; relocate() and finish() suspend on IO.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/compaction/compaction_value_hooks.h"
#include "engine/version/version.h"
#include "engine/vlog/value_log.h"
#include "engine/vlog/value_separator.h"
#include "engine/vlog/vlog_relocation.h"
#include "src/runtime/file_system.h"
#include "src/runtime/rate_limiter.h"

namespace cascade::engine {

struct VlogGcOptions {
  ValueSeparatorOptions separator;  // relocation outputs (min_blob_size does not apply)
  RelocationPolicy relocation;
  // Compaction's rate limiter (may be null: unlimited). A relocation is charged its
  // record's bytes for the write before it is made, and the relocator each range it reads
  // (the gaps merged into it included): GC traffic is compaction traffic and must
  // not starve foreground IO where compaction would not.
  runtime::RateLimiter* rate_limiter = nullptr;
};

class VlogGc final : public CompactionValueHooks {
 public:
  // `log` must outlive this; `current` returns the version current now.
  VlogGc(runtime::FileSystem& fs, std::string dir, ValueLog& log, VlogGcOptions options,
         std::function<std::uint64_t()> new_file_number,
         std::function<std::shared_ptr<const Version>()> current)
      : fs_(fs), dir_(std::move(dir)), log_(log), options_(options),
        new_file_number_(std::move(new_file_number)), current_(std::move(current)) {}

  std::unique_ptr<CompactionValueHandler> start_job(const Compaction& c) override;

 private:
  class Handler;

  runtime::FileSystem& fs_;
  const std::string dir_;
  ValueLog& log_;
  const VlogGcOptions options_;
  std::function<std::uint64_t()> new_file_number_;
  std::function<std::shared_ptr<const Version>()> current_;
};

}  // namespace cascade::engine
