// SaveState (src/server/save_state.h): one save at a time, BGSAVE SCHEDULE behind a
// foreground SAVE, and what LASTSAVE and INFO report.
#include "src/server/save_state.h"

#include <doctest/doctest.h>

using cascade::server::SaveKind;
using cascade::server::SaveState;

TEST_CASE("save state admits one save at a time and reports the start before any") {
  SaveState saves(100);
  CHECK(saves.report().last_save_time == 100);
  CHECK(saves.report().last_duration == -1);
  CHECK(saves.try_begin(SaveKind::kBackground, 110));
  CHECK_FALSE(saves.try_begin(SaveKind::kForeground, 111));
  CHECK_FALSE(saves.try_begin(SaveKind::kBackground, 111));
  CHECK(saves.report().running == SaveKind::kBackground);
  CHECK_FALSE(saves.finish(true, 113, "/d/checkpoints/a"));
  const auto report = saves.report();
  CHECK(report.running == SaveKind::kNone);
  CHECK(report.last_save_time == 113);
  CHECK(report.last_duration == 3);
  CHECK(report.saves == 1);
  CHECK(report.last_dir == "/d/checkpoints/a");
  CHECK(saves.try_begin(SaveKind::kForeground, 120));
}

TEST_CASE("a failed save keeps the last save time and reports err") {
  SaveState saves(100);
  REQUIRE(saves.try_begin(SaveKind::kForeground, 105));
  CHECK_FALSE(saves.finish(false, 106, ""));
  const auto report = saves.report();
  CHECK_FALSE(report.last_ok);
  CHECK(report.last_save_time == 100);
  CHECK(report.saves == 0);
  REQUIRE(saves.try_begin(SaveKind::kBackground, 107));
  CHECK_FALSE(saves.finish(true, 108, "/x"));
  CHECK(saves.report().last_ok);
}

TEST_CASE("bgsave schedule waits for a running save and starts when it finishes") {
  SaveState saves(0);
  CHECK_FALSE(saves.schedule());  // nothing runs: the caller starts a BGSAVE instead
  REQUIRE(saves.try_begin(SaveKind::kForeground, 10));
  CHECK(saves.schedule());
  CHECK(saves.report().scheduled);
  CHECK(saves.finish(true, 12, "/a"));  // the scheduled one starts now
  const auto report = saves.report();
  CHECK(report.running == SaveKind::kBackground);
  CHECK(report.running_since == 12);
  CHECK_FALSE(report.scheduled);
  CHECK_FALSE(saves.try_begin(SaveKind::kForeground, 13));
  CHECK_FALSE(saves.schedule());  // behind a BGSAVE: refused, as Redis does
  CHECK_FALSE(saves.finish(true, 14, "/b"));
  CHECK(saves.report().saves == 2);
}
