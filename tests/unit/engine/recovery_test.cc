#include "engine/recovery.h"

#include <doctest/doctest.h>

#include "tests/unit/engine/wal/wal_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;
using cascade::runtime::real_file_system;
using cascade::runtime::testing::IoLoop;
using cascade::runtime::testing::TempDir;

namespace {

// Batches 1..60 of one page each: lap 1 of a tiny ring, segment 0 holding 1..15.
void write_lap_one(IoLoop& loop, const std::string& dir) {
  run_fiber(loop, [&] {
    Replay r;
    auto wal = open_wal(real_file_system(), dir, tiny_wal(), r);
    REQUIRE(wal);
    for (SequenceNumber s = 1; s <= 60; ++s) REQUIRE((*wal)->append(make_batch(s, 1, 3000), true));
    REQUIRE((*wal)->close());
  });
}

Result<WalReplayResult> replay(IoLoop& loop, const std::string& dir, SequenceNumber flushed) {
  Result<WalReplayResult> out = Status::io_error("not run");
  MemTable mem;
  LoggedValues logged;
  run_fiber(loop, [&] {
    auto segments = WalSegments::open(real_file_system(), dir, tiny_wal().geometry);
    REQUIRE(segments);
    out = replay_wal(*segments, flushed, false, mem, logged, real_file_system(), dir);
    REQUIRE(segments->close());
  });
  return out;
}

}  // namespace

// The WAL leaves out the oldest segment of its window when its first record is damaged
// (wal_reader.h: the writer's torn entry into a new lap). Whether that lost anything
// acknowledged is the replay's call, from the flushed sequence.
TEST_CASE("replay accepts a left-out oldest wal segment only if its batches were flushed") {
  IoLoop loop;
  TempDir dir;
  write_lap_one(loop, dir.path());
  flip_bit(dir.file(wal_segment_name(0)), kWalHeaderPageSize + 40);

  auto flushed = replay(loop, dir.path(), 15);
  REQUIRE_MESSAGE(flushed, flushed.status().to_string());
  CHECK(flushed->wal.discarded_ring == 4);
  CHECK(flushed->batches_replayed == 45);
  CHECK(flushed->last_sequence == 60);

  auto unflushed = replay(loop, dir.path(), 10);  // batches 11..15 were only in the WAL
  REQUIRE_FALSE(unflushed);
  CHECK(unflushed.error().is_corruption());
}
