// Memtable switches and the background flush fiber (db.h, "Memtables").
#include <algorithm>
#include <optional>

#include "engine/db.h"
#include "engine/flush.h"
#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

void DB::switch_memtable() {
  mem_->mark_immutable();
  // A writer inserts its batch before it suspends, so every sequence taken so far is in
  // mem_ or older data; writers still waiting on the WAL inserted theirs already.
  imm_.push_back({mem_, inserted_through_, logged_});
  mem_ = std::make_shared<MemTable>(huge_blocks_, memtable_size_);
  logged_ = std::make_shared<LoggedValues>();
  schedule_flush();
}

void DB::schedule_flush() {
  if (flush_running_) return;
  flush_running_ = true;
  flusher_.add();
  runtime::SpawnOptions spawn;
  spawn.priority = runtime::Priority::kBackground;
  spawn.stack = runtime::StackSize::kLarge;  // zstd compression
  spawn.name = "engine-flush";
  runtime::Scheduler::current()->spawn([this] { flush_loop(); }, spawn);
}

// Flushes immutable memtables oldest first until none is left, retrying on NoSpace.
void DB::flush_loop() {
  while (!imm_.empty()) {
    Status s = flush_oldest();
    if (s) {
      ++stats_.flushes;
      set_flush_error(Status::ok());
      flush_done_.notify_all();
      on_version_changed();
      continue;
    }
    ++stats_.flush_failures;
    if (s.is_no_space()) {
      set_flush_error(s);
      flush_done_.notify_all();
      if (closing_) break;  // the WAL keeps the data; the next open replays it
      runtime::this_fiber::sleep_for(kFlushRetryInterval);
      continue;
    }
    set_bg_error(s);
    flush_done_.notify_all();
    break;
  }
  flush_running_ = false;
  flusher_.done();
}

Status DB::flush_oldest() {
  Immutable imm = imm_.front();
  // It may hold writes not yet visible (their WAL writes in flight): readers skip them in
  // the table by sequence as in the memtable, and compaction keeps every such version
  // (CompactionIteratorOptions::visible). Waiting for them here instead could deadlock:
  // the WAL may be waiting for this flush to free a segment.
  TableFile table;
  std::vector<VlogFile> vlogs;
  bool has_table = !imm.mem->empty();
  // Destroyed unfinished on any error below, which removes its files.
  std::optional<ValueSeparator> separator;
  // Its values' fate, added to the engine's counts only once the flush lands: a flush
  // retried after a full disk compresses the same values again.
  ValueCompressionStats compression;
  std::map<std::uint64_t, std::uint64_t> logged_live;
  if (has_table) {
    FlushOptions flush_options;
    flush_options.compression = options_.compression;
    flush_options.bloom_bits_per_key = options_.bloom_bits_per_key;
    flush_options.prefix_extractor = options_.prefix_extractor;
    if (min_blob_size() != kNeverSeparate) {
      ValueSeparatorOptions o = separator_options();
      o.compression_stats = &compression;
      separator.emplace(fs_, dir_, o, [this] { return versions_->new_file_number(); });
      flush_options.separator = &*separator;
    }
    flush_options.logged = imm.logged.get();
    flush_options.logged_live = &logged_live;
    std::uint64_t number = versions_->new_file_number();
    auto written = write_level0_table(fs_, dir_, number, *imm.mem, flush_options);
    if (!written) return written.error();
    table = std::move(*written);
    if (separator) {
      auto finished = separator->finish();
      if (!finished) {
        (void)fs_.remove(path_join(dir_, table_file_name(table.file_number)));
        separator->abandon();
        return finished.error();
      }
      vlogs = std::move(*finished);
    }
  }
  // The memtable's logged files. They are never removed on a failure here: until the
  // edit lands, the WAL records of the memtable name them. One with nothing live (every
  // value in it overwritten before the flush) is left out of the edit and deleted after.
  std::vector<VlogFile> logged_files, dead_logged;
  if (imm.logged && !imm.logged->empty()) {
    auto logged = finish_logged(*imm.logged, logged_live);
    if (!logged) {
      if (has_table) (void)fs_.remove(path_join(dir_, table_file_name(table.file_number)));
      if (separator) separator->abandon();
      return logged.error();
    }
    for (const VlogFile& v : *logged) {
      (v.live_bytes() == 0 ? dead_logged : logged_files).push_back(v);
    }
  }
  // The oldest file the table's pointers name, for the picker's value-log GC.
  for (const auto* files : {&vlogs, &logged_files}) {
    for (const VlogFile& v : *files) {
      if (table.oldest_vlog == 0 || v.file_number < table.oldest_vlog) {
        table.oldest_vlog = v.file_number;
      }
    }
  }
  VersionEdit edit;
  if (has_table) edit.add_table(0, table);
  for (const VlogFile& v : vlogs) edit.add_vlog(v);
  for (const VlogFile& v : logged_files) edit.add_vlog(v);
  edit.set_flushed_sequence(imm.last_sequence);
  // The manifest's last sequence must never name a write that may still be only in the
  // WAL's unsynced tail (the mutable memtable's, under everysec): a crash losing it would
  // have the next open number new writes past a gap, which the open after it refuses as
  // a hole in the WAL. The flushed memtable's sequences are durable in its table.
  versions_->set_last_sequence(std::max(versions_->last_sequence(), imm.last_sequence));
  if (Status s = versions_->log_and_apply(edit); !s) {
    // A poisoned manifest may or may not hold the edit: the table stays, and the next
    // open deletes it if no version names it.
    if (has_table && versions_->poisoned().is_ok()) {
      (void)fs_.remove(path_join(dir_, table_file_name(table.file_number)));
      for (const VlogFile& v : vlogs) {
        (void)fs_.remove(path_join(dir_, vlog_file_name(v.file_number)));
      }
    }
    return s;
  }
  imm_.pop_front();
  wal_->mark_flushed(imm.last_sequence);
  stats_.flushed_bytes += table.file_size;
  value_compression_ += compression;
  for (const VlogFile& v : vlogs) stats_.vlog_bytes_written += v.file_size;
  for (const auto* files : {&logged_files, &dead_logged}) {
    for (const VlogFile& v : *files) stats_.vlog_bytes_written += v.file_size;
  }
  for (const VlogFile& v : dead_logged) {
    (void)fs_.remove(path_join(dir_, vlog_file_name(v.file_number)));  // a leftover goes at open
  }
  return Status::ok();
}

Result<std::vector<VlogFile>> DB::finish_logged(
    LoggedValues& logged, const std::map<std::uint64_t, std::uint64_t>& live) {
  std::vector<VlogFile> files;
  auto add = [&](std::uint64_t number, std::uint64_t size) {
    auto it = live.find(number);
    const std::uint64_t live_bytes = it == live.end() ? 0 : it->second;
    // Header, padding, footer and the records of values overwritten before the flush
    // are garbage from the start.
    files.push_back({.file_number = number, .file_size = size, .garbage_bytes = size - live_bytes});
  };
  for (const auto& appender : logged.appenders) {
    auto size = appender->finish();
    if (!size) return size.error();
    std::erase(open_appenders_, appender);
    add(appender->file_number(), *size);
  }
  for (const LoggedValues::RecoveredFile& f : logged.recovered) {
    auto size =
        VlogAppender::finish_recovered(fs_, dir_, f.file_number, f.data_end, f.record_count);
    if (!size) return size.error();
    add(f.file_number, *size);
  }
  return files;
}

ValueSeparatorOptions DB::separator_options() const {
  ValueSeparatorOptions o;
  o.min_blob_size = min_blob_size();
  o.value_head_size = options_.vlog_value_head_size;
  o.vlog_file_size = options_.vlog_file_size;
  o.compression = options_.compression;
  return o;
}

Status DB::wait_for_flushes() {
  flush_done_.wait([&] { return imm_.empty() || !bg_error_.is_ok() || !flush_error_.is_ok(); });
  if (!bg_error_.is_ok()) return bg_error_;
  if (!imm_.empty()) return flush_error_;
  return Status::ok();
}

Status DB::flush() {
  if (closing_) return Status::shutdown("engine is closing");
  if (Status s = wait_for_flushes(); !s) return s;
  if (mem_->empty()) return Status::ok();
  switch_memtable();
  return wait_for_flushes();
}

}  // namespace cascade::engine
