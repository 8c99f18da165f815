// VersionSet: recovery at open, log_and_apply, manifest rolls and obsolete-file detection.
// The protocol and the concurrency rules are in version_set.h.
#include "engine/version/version_set.h"

#include <algorithm>

#include "engine/version/current_file.h"
#include "engine/version/file_names.h"
#include "engine/version/version_recovery.h"

namespace cascade::engine {

namespace {

// One above the largest number any engine file in `listing` carries, so that numbers
// allocated after open never collide with a file a crash left behind unnamed.
std::uint64_t first_unused_number(const std::vector<std::string>& listing) {
  std::uint64_t next = 1;
  for (const std::string& name : listing) {
    auto n = parse_numbered_file(name);
    if (!n) n = parse_manifest_number(name);
    if (n && *n >= next) next = *n + 1;
  }
  return next;
}

constexpr std::size_t kPruneHandedOutAt = 64;

std::string parent_dir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  std::size_t slash = d.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : d.substr(0, slash);
}

}  // namespace

Result<std::unique_ptr<VersionSet>> VersionSet::open_or_create(runtime::FileSystem& fs,
                                                               std::string dir,
                                                               VersionSetOptions options) {
  if (options.create_if_missing) {
    if (Status s = fs.make_dir(dir); !s) return s;
  }
  auto listing = fs.list_dir(dir);
  if (!listing) return listing.error();
  auto state = recover_state(fs, dir, *listing, options.check_files_exist);
  if (!state) return state.error();
  if (state->fresh && !options.create_if_missing) {
    return Status::not_found(dir + ": no CURRENT file: not an engine directory");
  }

  if (state->fresh) {
    // The directory may be new: its own entry must survive a crash too.
    if (Status s = fs.sync_dir(parent_dir(dir)); !s) return s;
  }

  std::unique_ptr<VersionSet> set(new VersionSet(fs, std::move(dir), options));
  set->next_file_number_ =
      std::max(state->next_file_number, first_unused_number(*listing));
  set->last_sequence_ = state->last_sequence;
  set->recovered_torn_bytes_ = state->dropped_tail_bytes;
  // Always start a new manifest: appending to the old one could follow a torn tail.
  bool installed = false;
  if (Status s = set->roll_manifest(*state->version, installed); !s) return s;
  set->current_ = std::move(state->version);
  set->handed_out_.push_back(set->current_);
  set->next_file_number_at_open_ = set->next_file_number_;
  return set;
}

VersionSet::~VersionSet() {
  if (manifest_) (void)manifest_->close();  // every acknowledged record is already synced
}

Status VersionSet::roll_manifest(const Version& version, bool& installed) {
  installed = false;
  std::uint64_t number = new_file_number();
  const std::string path = path_join(dir_, manifest_file_name(number));
  auto writer = ManifestWriter::create(fs_, path, number);
  Status s = writer.status();
  if (s) {
    VersionEdit snapshot = version.snapshot_edit();
    snapshot.set_next_file_number(next_file_number_);
    snapshot.set_last_sequence(last_sequence_);
    std::string record;
    snapshot.encode_to(record);
    s = (*writer)->add_record(record);
    if (s) s = (*writer)->sync();
    // The new manifest's directory entry must be durable before CURRENT can name it.
    if (s) s = fs_.sync_dir(dir_);
    if (s) s = install_current(fs_, dir_, number, &installed);
  }
  if (!s) {
    if (writer) (void)(*writer)->close();
    // Unnamed by CURRENT, the file is nobody's: removed now, not left (one per failed
    // roll) until the next open's clean-up.
    if (!installed) (void)fs_.remove(path);
    return s;
  }
  if (manifest_) (void)manifest_->close();  // read-only from here on: nothing to lose
  manifest_ = std::move(*writer);
  return Status::ok();
}

Status VersionSet::append_edit(const VersionEdit& edit) {
  // New files' directory entries must be durable before the manifest names them.
  if (edit.adds_files()) {
    if (Status s = fs_.sync_dir(dir_); !s) return s;
  }
  std::string record;
  edit.encode_to(record);
  if (Status s = manifest_->add_record(record); !s) {
    // Not written whole: a recovery reads it as a torn tail, never as the edit.
    if (s.is_no_space()) roll_pending_ = true;
    return s;
  }
  // A failed sync (whatever its cause) may still leave the record durable: that poisons.
  return manifest_->sync();
}

Status VersionSet::poison(const Status& cause) {
  poisoned_ = Status(cause.code(),
                     "version set refuses edits after a failed manifest write: " + cause.message());
  return poisoned_;
}

Status VersionSet::log_and_apply(VersionEdit& edit) {
  runtime::MutexGuard guard(apply_mutex_);
  if (!poisoned_.is_ok()) return poisoned_;
  edit.set_next_file_number(next_file_number_);
  edit.set_last_sequence(last_sequence_);
  auto next = apply_edit(*current_, edit);
  if (!next) return next.error();

  const bool roll = roll_pending_ || manifest_->size() >= options_.max_manifest_bytes;
  bool installed = false;
  Status s = roll ? roll_manifest(**next, installed) : append_edit(edit);
  if (!s) {
    // Refused for space where no recovery reads it: a roll before CURRENT named the new
    // manifest (the old one stands), or a record append_edit could not write whole (it set
    // roll_pending_). The next edit rolls again; anything else poisons.
    const bool unread = s.is_no_space() && (roll ? !installed : roll_pending_);
    if (!unread) return poison(s);
    roll_pending_ = true;
    return s;
  }
  roll_pending_ = false;
  current_ = std::move(*next);
  handed_out_.push_back(current_);
  if (handed_out_.size() >= kPruneHandedOutAt) (void)live_files();
  return Status::ok();
}

std::set<std::uint64_t> VersionSet::live_files() {
  std::set<std::uint64_t> live;
  std::erase_if(handed_out_, [&](const std::weak_ptr<const Version>& weak) {
    std::shared_ptr<const Version> v = weak.lock();
    if (!v) return true;
    v->add_live_files(live);
    return false;
  });
  return live;
}

std::vector<std::string> VersionSet::obsolete_files(const std::vector<std::string>& listing) {
  std::set<std::uint64_t> live = live_files();
  std::vector<std::string> obsolete;
  for (const std::string& name : listing) {
    if (name == kCurrentTempFileName) {
      // Only a leftover: during a roll it is about to become CURRENT.
      if (!apply_mutex_.is_locked()) obsolete.push_back(name);
    } else if (auto m = parse_manifest_number(name)) {
      if (*m < manifest_->file_number()) obsolete.push_back(name);
    } else if (auto n = parse_numbered_file(name)) {
      if (*n < next_file_number_at_open_ && !live.contains(*n)) obsolete.push_back(name);
    }
  }
  return obsolete;
}

std::array<LevelSummary, kNumLevels> VersionSet::level_summaries() const {
  std::array<LevelSummary, kNumLevels> out;
  for (int level = 0; level < kNumLevels; ++level) {
    out[level] = {current_->num_files(level), current_->level_bytes(level)};
  }
  return out;
}

}  // namespace cascade::engine
