// The write throttle: slowdown and stop while compaction is behind (db.h, "Write
// throttle"; the decisions are compaction/write_controller.h's).
#include "engine/compaction/compaction_debt.h"
#include "engine/db.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

namespace {

std::uint64_t micros_since(runtime::TimePoint start) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        runtime::Clock::now() - start)
                                        .count());
}

}  // namespace

void DB::update_write_state() {
  runtime::Scheduler* scheduler = runtime::Scheduler::current();
  const bool set_share = options_.compaction.max_background_share > 0 && scheduler != nullptr;
  if (!auto_compaction_on()) {
    if (set_share) scheduler->set_background_share(options_.compaction.background_share);
    // No compaction would lift a stop: the throttle is off. A slowdown or stop in force
    // (compaction was just paused) ends now, and the writers it holds go on.
    if (write_controller_.state() == WriteState::kNormal) return;
    (void)write_controller_.update(WritePressure{}, runtime::Clock::now());
    compaction_done_.notify_all();
    return;
  }
  auto version = versions_->current();
  WritePressure pressure;
  pressure.level0_files = version->num_files(0);
  pressure.pending_bytes = pending_compaction_bytes(*version, level_options_,
                                                    options_.compaction.l0_compaction_trigger);
  if (set_share) scheduler->set_background_share(write_controller_.background_share(pressure));
  WriteState before = write_controller_.state();
  if (auto message = write_controller_.update(pressure, runtime::Clock::now())) log(*message);
  stats_.write_slowdowns = write_controller_.episodes(WriteState::kSlowdown);
  stats_.write_stops = write_controller_.episodes(WriteState::kStop);
  if (write_controller_.state() != before) compaction_done_.notify_all();
}

Status DB::throttle_write() {
  if (write_controller_.state() == WriteState::kNormal) {
    // A writer that never waits (no sync, buffers with room) would otherwise hold the
    // thread until its WAL buffer fills: no IO is reaped meanwhile, so flush and
    // compaction wait on every read they issue. (Slowed or stopped, it suspends below.)
    // The state may change meanwhile: it is read again below.
    runtime::this_fiber::maybe_yield();
  }
  if (write_controller_.state() == WriteState::kSlowdown) {
    runtime::TimePoint start = runtime::Clock::now();
    runtime::this_fiber::sleep_for(write_controller_.delay());
    stats_.write_slowdown_micros += micros_since(start);
  }
  if (write_controller_.state() != WriteState::kStop) return Status::ok();
  runtime::TimePoint start = runtime::Clock::now();
  compaction_done_.wait([&] {
    return write_controller_.state() != WriteState::kStop || closing_ || !bg_error_.is_ok();
  });
  stats_.write_stop_micros += micros_since(start);
  if (!bg_error_.is_ok()) return bg_error_;
  if (closing_) return Status::shutdown("engine is closing");
  return Status::ok();
}

}  // namespace cascade::engine
