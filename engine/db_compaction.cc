// Background compaction, compact_range, obsolete-file deletion and the write throttle
// (db.h, "Compaction" and "Write throttle").
#include <algorithm>
#include <cstdio>

#include "engine/compaction/compaction_debt.h"
#include "engine/compaction/compaction_job.h"
#include "engine/db.h"
#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

void DB::log(const std::string& message) const {
  std::string line = "engine " + dir_ + ": " + message;
  if (options_.wal.log) {
    options_.wal.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void DB::on_version_changed() {
  update_write_state();
  maybe_schedule_compaction();
  purge_obsolete_files();
}

void DB::maybe_schedule_compaction() {
  if (closing_ || !bg_error_.is_ok() || !auto_compaction_on()) return;
  if (compactions_running_ >= options_.compaction.max_background_compactions) return;
  if (!picker_.needs_compaction(*versions_->current())) return;
  // A fiber already running picks again when it finishes; start another only if there
  // is work it could not take (the picker will tell it).
  ++compactions_running_;
  compactors_.add();
  runtime::SpawnOptions spawn;
  spawn.priority = runtime::Priority::kBackground;
  spawn.stack = runtime::StackSize::kLarge;  // zstd compression
  spawn.name = "engine-compaction";
  runtime::Scheduler::current()->spawn([this] { compaction_loop(); }, spawn);
}

void DB::compaction_loop() {
  // Paused: the job in hand finishes, no new one is picked.
  while (!closing_ && bg_error_.is_ok() && !auto_compactions_paused_) {
    std::optional<Compaction> c = picker_.pick(versions_->current(), busy_);
    if (!c) break;
    Status s = run_compaction(*c);
    c.reset();  // lets go of the picked version, so its files may be deleted
    if (s) {
      compaction_error_ = Status::ok();
      on_version_changed();
      continue;
    }
    note_compaction_failure(s);
    if (!s.is_no_space()) break;
    runtime::this_fiber::sleep_for(kFlushRetryInterval);
  }
  --compactions_running_;
  compaction_done_.notify_all();
  compactors_.done();
}

// NoSpace is retried (by the background loop); shutdown is no failure of the data; any
// other error stops writes, as a failed flush does.
void DB::note_compaction_failure(const Status& s) {
  ++stats_.compaction_failures;
  if (s.code() == StatusCode::kShutdown) return;
  if (s.is_no_space()) {
    if (compaction_error_.is_ok()) log("compaction failed, retrying: " + s.to_string());
    compaction_error_ = s;
    return;
  }
  if (!bg_error_.is_ok()) return;
  log("compaction failed, writes stop until reopen: " + s.to_string());
  set_bg_error(s);
  flush_done_.notify_all();
  compaction_done_.notify_all();
}

Status DB::run_compaction(const Compaction& c) {
  const std::vector<std::uint64_t> inputs = c.input_file_numbers();
  for (std::uint64_t n : inputs) busy_.insert(n);
  struct Release {
    DB& db;
    const std::vector<std::uint64_t>& inputs;
    ~Release() {
      for (std::uint64_t n : inputs) db.busy_.erase(n);
      db.compaction_done_.notify_all();
    }
  } release{*this, inputs};

  if (c.is_trivial_move()) {
    VersionEdit edit;
    c.add_trivial_move(edit);
    Status s = versions_->log_and_apply(edit);
    if (s) ++stats_.trivial_moves;
    return s;
  }
  return install_compaction_job(c);
}

Status DB::install_compaction_job(const Compaction& c) {
  CompactionJobOptions o;
  o.dir = dir_;
  o.output = level_options_[c.output_level];
  o.bloom_bits_per_key = options_.bloom_bits_per_key;
  o.prefix_extractor = options_.prefix_extractor;
  o.snapshots = snapshots_.sequences();
  o.visible = visible_sequence_;
  o.filter = options_.compaction.filter;
  o.value_hooks = options_.compaction.value_hooks != nullptr ? options_.compaction.value_hooks
                                                             : &vlog_gc_;
  o.rate_limiter = &compaction_limiter_;
  o.new_file_number = [this] { return versions_->new_file_number(); };
  o.pause = [this] { return compaction_pause(); };
  auto job = run_compaction_job(fs_, c, o);
  if (!job) return job.error();
  if (Status s = versions_->log_and_apply(job->edit); !s) {
    // A poisoned manifest may hold the edit: the outputs stay, and the next open deletes
    // them if no version names them.
    if (versions_->poisoned().is_ok()) {
      for (const TableFile& t : job->outputs) {
        (void)fs_.remove(path_join(dir_, table_file_name(t.file_number)));
      }
      for (const VlogFile& v : job->edit.vlogs_added) {
        (void)fs_.remove(path_join(dir_, vlog_file_name(v.file_number)));
      }
    }
    return s;
  }
  for (std::uint64_t n : c.input_file_numbers()) obsolete_tables_.insert(n);
  for (std::uint64_t n : job->edit.vlogs_removed) obsolete_vlogs_.add(n);
  for (const VlogFile& v : job->edit.vlogs_added) {
    stats_.vlog_bytes_written += v.file_size;
    stats_.vlog_bytes_relocated += v.file_size;
  }
  stats_.vlog_values_relocated += job->entries.relocated;
  ++stats_.compactions;
  stats_.compaction_bytes_read += job->io.read;
  for (const TableFile& t : job->outputs) stats_.compaction_bytes_written += t.file_size;
  const CompactionIteratorStats& e = job->entries;
  stats_.compaction_entries_dropped += e.superseded + e.tombstones_dropped + e.filtered;
  return retire_empty_vlogs();
}

// Removes from the version every value-log file with nothing live in it that no edit
// removed (vlog_gc.h says when that happens). One fiber at a time: a second would log the
// same removals, which the version refuses. No compaction edit logged meanwhile removes
// one of them: a file is removed by the edit whose garbage completes it.
Status DB::retire_empty_vlogs() {
  if (retiring_vlogs_) return Status::ok();
  VersionEdit edit;
  for (const auto& [number, f] : versions_->current()->vlog_files()) {
    if (f.garbage_bytes >= f.file_size) edit.remove_vlog(number);
  }
  if (edit.vlogs_removed.empty()) return Status::ok();
  retiring_vlogs_ = true;
  Status s = versions_->log_and_apply(edit);
  retiring_vlogs_ = false;
  if (!s) return s;
  for (std::uint64_t n : edit.vlogs_removed) obsolete_vlogs_.add(n);
  return Status::ok();
}

// Called by a job once per output block: yields, and steps aside while writers wait for a
// flush. Shutdown ends the job at close.
Status DB::compaction_pause() {
  runtime::this_fiber::yield();
  flush_done_.wait([&] {
    return closing_ || !flush_running_ || imm_.size() < options_.max_immutable_memtables ||
           !flush_error_.is_ok() || !bg_error_.is_ok();
  });
  if (closing_) return Status::shutdown("engine is closing");
  return Status::ok();
}

// Deletes compaction inputs no live version names any more, and manifests older than the
// current one (a roll leaves the previous one behind).
void DB::purge_obsolete_files() {
  if (obsolete_tables_.empty() && obsolete_vlogs_.pending() == 0 &&
      purged_manifest_ == versions_->manifest_file_number()) {
    return;
  }
  std::set<std::uint64_t> live = versions_->live_files();
  std::vector<std::uint64_t> doomed;
  for (auto it = obsolete_tables_.begin(); it != obsolete_tables_.end();) {
    if (live.contains(*it)) {
      ++it;
      continue;
    }
    doomed.push_back(*it);
    it = obsolete_tables_.erase(it);  // before any suspension: no other fiber takes it
  }
  // Only the manifest current at the last purge: a number between two manifests may
  // belong to any other file. Older ones (several rolls between purges) go at next open.
  std::vector<std::uint64_t> manifests;
  if (purged_manifest_ < versions_->manifest_file_number()) manifests.push_back(purged_manifest_);
  purged_manifest_ = versions_->manifest_file_number();
  for (std::uint64_t n : doomed) {
    tables_.evict(n);
    Status s = fs_.remove(path_join(dir_, table_file_name(n)));
    if (s || s.is_not_found()) ++stats_.obsolete_files_deleted;
  }
  for (std::uint64_t m : manifests) {
    Status s = fs_.remove(path_join(dir_, manifest_file_name(m)));
    if (s) ++stats_.obsolete_files_deleted;
  }
  // A file that fails to delete stays pending (and the next open deletes it anyway).
  auto vlogs = obsolete_vlogs_.delete_unreferenced(fs_, dir_, live, &value_log_);
  if (vlogs) {
    stats_.vlog_files_deleted += *vlogs;
    stats_.obsolete_files_deleted += *vlogs;
  }
}

// One level's step of compact_range: the tables of `level` in the range into level + 1,
// waiting while a running compaction holds a table it needs.
Status DB::compact_level_range(int level, const std::optional<std::string>& begin,
                               const std::optional<std::string>& end) {
  while (true) {
    if (!bg_error_.is_ok()) return bg_error_;
    if (closing_) return Status::shutdown("engine is closing");
    RangePick pick = picker_.pick_range(versions_->current(), level, begin, end, busy_);
    if (pick.state == RangePick::State::kNothing) return Status::ok();
    if (pick.state == RangePick::State::kBusy) {
      compaction_done_.wait();
      continue;
    }
    Status s = run_compaction(pick.compaction);
    pick.compaction.version.reset();
    if (s) {
      on_version_changed();
    } else {
      note_compaction_failure(s);
    }
    return s;
  }
}

Status DB::compact_range(std::optional<std::string_view> begin,
                         std::optional<std::string_view> end) {
  if (Status s = flush(); !s) return s;
  compactors_.add();
  struct Leave {
    runtime::WaitGroup& group;
    ~Leave() { group.done(); }
  } leave{compactors_};
  std::optional<std::string> lo, hi;
  if (begin) lo.emplace(*begin);
  if (end) hi.emplace(*end);
  auto holds_range = [&](const Version& v, int level) {
    for (const TableFilePtr& t : v.files(level)) {
      if ((!lo || t->largest_user_key() >= *lo) && (!hi || t->smallest_user_key() <= *hi)) {
        return true;
      }
    }
    return false;
  };
  int deepest = -1;
  bool above = false;  // a level above the deepest holds part of the range
  {
    auto version = versions_->current();
    for (int level = 0; level < kNumLevels; ++level) {
      if (!holds_range(*version, level)) continue;
      if (deepest >= 0) above = true;
      deepest = level;
    }
  }
  if (deepest < 0) return Status::ok();
  // Everything goes down to the deepest level; a range only one level holds is rewritten
  // one level down, so its garbage (released snapshots' versions, tombstones) goes too.
  int last = deepest;
  if (!above && deepest < kNumLevels - 1) last = deepest + 1;
  for (int level = 0; level < last; ++level) {
    if (Status s = compact_level_range(level, lo, hi); !s) return s;
  }
  return Status::ok();
}

Status DB::wait_for_compactions() {
  while (true) {
    if (!bg_error_.is_ok()) return bg_error_;
    if (closing_) return Status::shutdown("engine is closing");
    if (compactions_running_ == 0) {
      if (!picker_.needs_compaction(*versions_->current()) || !auto_compaction_on()) {
        return Status::ok();
      }
      maybe_schedule_compaction();
      if (compactions_running_ == 0) return Status::ok();
    }
    compaction_done_.wait();
  }
}

void DB::set_auto_compactions(bool enabled) {
  if (enabled == !auto_compactions_paused_) return;
  auto_compactions_paused_ = !enabled;
  log(enabled ? "automatic compaction resumed"
              : "automatic compaction paused: no new compaction, no write throttle");
  update_write_state();  // paused: lifts a slowdown or stop; resumed: recomputes it
  maybe_schedule_compaction();
}

std::set<std::uint64_t> DB::live_vlog_files() const {
  std::set<std::uint64_t> out;
  for (const auto& [number, f] : versions_->current()->vlog_files()) out.insert(number);
  return out;
}

std::set<std::uint64_t> DB::kept_vlog_files() const {
  std::set<std::uint64_t> out = live_vlog_files();
  auto add = [&](const LoggedValues& logged) {
    for (const auto& a : logged.appenders) out.insert(a->file_number());
    for (const LoggedValues::RecoveredFile& f : logged.recovered) out.insert(f.file_number);
  };
  add(*logged_);
  for (const Immutable& imm : imm_) {
    if (imm.logged) add(*imm.logged);
  }
  return out;
}

std::set<std::uint64_t> DB::live_table_files() const {
  std::set<std::uint64_t> out;
  auto version = versions_->current();
  for (int level = 0; level < kNumLevels; ++level) {
    for (const TableFilePtr& t : version->files(level)) out.insert(t->file_number);
  }
  return out;
}

}  // namespace cascade::engine
