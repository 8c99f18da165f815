// See save_state.h.
#include "src/server/save_state.h"

namespace cascade::server {

bool SaveState::try_begin(SaveKind kind, std::int64_t now) {
  std::lock_guard lock(mutex_);
  if (report_.running != SaveKind::kNone) return false;
  report_.running = kind;
  report_.running_since = now;
  return true;
}

bool SaveState::schedule() {
  std::lock_guard lock(mutex_);
  if (report_.running != SaveKind::kForeground) return false;
  report_.scheduled = true;
  return true;
}

bool SaveState::finish(bool ok, std::int64_t now, const std::string& dir) {
  std::lock_guard lock(mutex_);
  report_.last_ok = ok;
  report_.last_duration = now - report_.running_since;
  if (ok) {
    report_.last_save_time = now;
    report_.last_dir = dir;
    ++report_.saves;
  }
  if (report_.scheduled) {
    report_.scheduled = false;
    report_.running = SaveKind::kBackground;
    report_.running_since = now;
    return true;
  }
  report_.running = SaveKind::kNone;
  return false;
}

SaveReport SaveState::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

}  // namespace cascade::server
