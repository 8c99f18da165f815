// SaveState: which save (SAVE or BGSAVE) is running, whether a BGSAVE waits for it, and
// what the last one did: LASTSAVE, INFO's Persistence section and the one-at-a-time rule.
//
// One at a time. try_begin admits a save only when none runs. BGSAVE SCHEDULE while a
// foreground SAVE runs (another connection's: SAVE blocks only its own client here) is
// recorded by schedule() and started by whoever finishes that SAVE; while a BGSAVE runs
// it is refused like a plain BGSAVE, as Redis 7.0 refuses it while its save child runs.
//
// Times are unix seconds. Before any save, the last save time is the server's start (as
// Redis sets lastsave after loading), with status ok.
//
// Threads: one per server, used from every shard: a mutex guards it; nothing blocks
// while holding it.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace cascade::server {

enum class SaveKind { kNone, kForeground, kBackground };

struct SaveReport {
  SaveKind running = SaveKind::kNone;
  std::int64_t running_since = 0;     // when the running save began
  bool scheduled = false;             // a BGSAVE waits for the running SAVE
  std::int64_t last_save_time = 0;    // the last successful save (or the start)
  bool last_ok = true;                // the last save's outcome
  std::int64_t last_duration = -1;    // seconds the last save took; -1 before any
  std::uint64_t saves = 0;            // successful saves since start
  std::string last_dir;               // the last successful checkpoint's directory
};

class SaveState {
 public:
  explicit SaveState(std::int64_t started_at) { report_.last_save_time = started_at; }
  SaveState(const SaveState&) = delete;
  SaveState& operator=(const SaveState&) = delete;

  // Marks a save of `kind` running if none is; false otherwise.
  bool try_begin(SaveKind kind, std::int64_t now);
  // BGSAVE SCHEDULE: true if a foreground SAVE runs, and the BGSAVE will follow it.
  bool schedule();
  // Ends the running save. True if a scheduled BGSAVE should start now: it is then
  // already marked running (began at `now`), so nothing can slip in between.
  bool finish(bool ok, std::int64_t now, const std::string& dir);

  SaveReport report() const;

 private:
  mutable std::mutex mutex_;
  SaveReport report_;
};

}  // namespace cascade::server
