// VersionSet: the engine's current Version, the manifest that makes it durable, and the
// counters that live beside it (next file number, last sequence).
//
// Protocol for changing the set of files (engine/FORMAT.md, "Manifest"):
//   1. The caller writes every new file and syncs it.
//   2. log_and_apply(edit): syncs the directory if the edit names new files, appends the
//      edit to the manifest and syncs the manifest, and only then installs the new version.
//      When the manifest has grown past options.max_manifest_bytes it instead writes a new
//      manifest (a snapshot of the new version), syncs it and switches CURRENT to it.
//   3. The caller deletes files the new version dropped once no live version names them
//      (live_files / obsolete_files).
// A crash at any point leaves a manifest that yields either the old or the new version.
//
// Poisoning: once writing or syncing the manifest, CURRENT or the directory fails, the
// durable state is in doubt (a failed fsync may have marked dirty pages clean), so every
// later log_and_apply returns the same error without touching the disk, and poisoned()
// says why. Reopening is the only way out.
//
// Concurrency: one VersionSet per engine, used by the fibers of one shard. log_and_apply
// may suspend; concurrent callers (flush and compaction fibers) are serialized by a fiber
// Mutex and applied in the order they called. It must be called from a fiber. The other
// calls never suspend.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/version/manifest.h"
#include "engine/version/version.h"
#include "engine/version/version_edit.h"
#include "src/runtime/file_system.h"
#include "src/runtime/mutex.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct VersionSetOptions {
  // A manifest larger than this is replaced by a fresh snapshot at the next edit.
  std::uint64_t max_manifest_bytes = 8u << 20;
  // Create an empty version set when the directory holds none; else NotFound.
  bool create_if_missing = true;
  // Corruption at open if the manifest names a file number the directory lacks.
  bool check_files_exist = true;
};

struct LevelSummary {
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

class VersionSet {
 public:
  // Recovers from CURRENT and the manifest it names (dropping a torn last record), or
  // creates an empty set when the directory holds no engine files and no CURRENT. Either
  // way a new manifest holding a snapshot is written and made current before returning,
  // so later edits never follow a torn tail. Corruption if CURRENT is garbage or names a
  // missing manifest, if CURRENT is missing but engine files exist, or if the manifest is
  // damaged before its last record.
  static Result<std::unique_ptr<VersionSet>> open_or_create(runtime::FileSystem& fs,
                                                            std::string dir,
                                                            VersionSetOptions options = {});
  ~VersionSet();

  // Fills in edit's next file number and last sequence, makes the edit durable, installs
  // the new version. InvalidArgument (and nothing written) if the edit breaks a version
  // invariant; the poisoning error once the manifest could not be written.
  Status log_and_apply(VersionEdit& edit);

  std::shared_ptr<const Version> current() const { return current_; }

  std::uint64_t new_file_number() { return next_file_number_++; }
  // Numbers up to `number` are taken (a file the WAL names, numbered after the manifest's
  // last edit): new_file_number() never returns them.
  void reserve_file_number(std::uint64_t number) {
    next_file_number_ = std::max(next_file_number_, number + 1);
  }
  std::uint64_t next_file_number() const { return next_file_number_; }
  SequenceNumber last_sequence() const { return last_sequence_; }
  void set_last_sequence(SequenceNumber s) { last_sequence_ = s; }

  // Every file number a live version (current, or still held by a reader) names.
  std::set<std::uint64_t> live_files();
  // The names in `listing` (a directory listing) that the engine may delete: numbered
  // files and manifests older than the next file number at open that no live version
  // names and that are not the current manifest, and a leftover CURRENT.tmp. Names the
  // engine does not own are never listed.
  std::vector<std::string> obsolete_files(const std::vector<std::string>& listing);

  std::array<LevelSummary, kNumLevels> level_summaries() const;
  std::uint64_t manifest_file_number() const { return manifest_->file_number(); }
  std::uint64_t manifest_size() const { return manifest_->size(); }
  // Bytes of a torn last manifest record dropped at open (0 after a clean shutdown).
  std::uint64_t recovered_torn_bytes() const { return recovered_torn_bytes_; }
  const Status& poisoned() const { return poisoned_; }

 private:
  VersionSet(runtime::FileSystem& fs, std::string dir, VersionSetOptions options)
      : fs_(fs), dir_(std::move(dir)), options_(options) {}

  // Writes a new manifest holding `version` and the counters, syncs it, points CURRENT
  // at it. On success the new writer replaces manifest_.
  // `installed`: whether CURRENT was replaced, also when a later step failed.
  Status roll_manifest(const Version& version, bool& installed);
  Status append_edit(const VersionEdit& edit);
  Status poison(const Status& cause);

  runtime::FileSystem& fs_;
  std::string dir_;
  VersionSetOptions options_;
  runtime::Mutex apply_mutex_;
  std::unique_ptr<ManifestWriter> manifest_;
  std::shared_ptr<const Version> current_;
  // Versions handed out; expired ones are pruned by live_files().
  std::vector<std::weak_ptr<const Version>> handed_out_;
  std::uint64_t next_file_number_ = 1;
  std::uint64_t next_file_number_at_open_ = 1;
  SequenceNumber last_sequence_ = 0;
  std::uint64_t recovered_torn_bytes_ = 0;
  Status poisoned_;
  // A manifest write failed for want of space where no recovery can read it (a record cut
  // short: a torn tail; or a roll's new manifest, before CURRENT named it, removed): the
  // edit was not applied, but the current file's tail is in doubt, so the next edit rolls
  // a fresh manifest instead of appending. Not a poison: a full disk passes. A failed sync,
  // or a roll failing once CURRENT was replaced, still poisons.
  bool roll_pending_ = false;
};

}  // namespace cascade::engine
