// Test support for the WAL tests: tiny rings in a TempDir driven by an IoLoop, batches with
// recognizable sequences, and byte surgery on closed segment files.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/wal/wal_reader.h"
#include "engine/wal/wal_segment.h"
#include "engine/wal/wal_writer.h"
#include "engine/write_batch.h"
#include "src/runtime/file_system.h"
#include "tests/unit/runtime/io_test_loop.h"

namespace cascade::engine::testing {

inline WalOptions tiny_wal(WalSyncPolicy policy = WalSyncPolicy::kAlways) {
  WalOptions o;
  o.geometry.segment_count = 4;
  o.geometry.segment_size = 64 << 10;
  o.sync_policy = policy;
  o.log = [](const std::string&) {};
  return o;
}

// A batch with sequence `seq` and `records` puts whose values are `value_size` bytes.
// The sequences from..to, both included.
inline std::vector<SequenceNumber> iota_seq(SequenceNumber from, SequenceNumber to) {
  std::vector<SequenceNumber> v;
  for (SequenceNumber s = from; s <= to; ++s) v.push_back(s);
  return v;
}

inline WriteBatch make_batch(SequenceNumber seq, int records = 1, std::size_t value_size = 20) {
  WriteBatch b;
  for (int i = 0; i < records; ++i) {
    b.put("key" + std::to_string(seq + i), std::string(value_size, static_cast<char>('a' + seq % 26)));
  }
  b.set_sequence(seq);
  return b;
}

struct Replay {
  std::vector<SequenceNumber> sequences;
  std::vector<WalPosition> positions;
  WalReplayFn fn() {
    return [this](const WriteBatch& b, const WalPosition& p) {
      sequences.push_back(b.sequence());
      positions.push_back(p);
      return Status::ok();
    };
  }
};

inline Result<WalRecovery> recover_dir(runtime::FileSystem& fs, const std::string& dir,
                                       const WalOptions& options, Replay& replay,
                                       WalRecoveryOptions ro = {}) {
  auto segments = WalSegments::open(fs, dir, options.geometry);
  if (!segments) return segments.error();
  auto r = recover_wal(*segments, ro, replay.fn());
  Status c = segments->close();
  if (!r) return r;
  if (!c) return c;
  return r;
}

// Recovers and opens a writer; the replayed sequences land in `replay`.
inline Result<std::unique_ptr<WalWriter>> open_wal(runtime::FileSystem& fs, const std::string& dir,
                                                   const WalOptions& options, Replay& replay,
                                                   WalRecovery* recovery_out = nullptr,
                                                   WalRecoveryOptions ro = {}) {
  auto segments = WalSegments::open(fs, dir, options.geometry);
  if (!segments) return segments.error();
  auto r = recover_wal(*segments, ro, replay.fn());
  if (!r) return r.error();
  if (recovery_out) *recovery_out = *r;
  return WalWriter::open(std::move(*segments), options, *r);
}

// A new WAL in `dir`, which is made (and made durable in "/"), from a fiber.
inline std::unique_ptr<WalWriter> open_new_wal(runtime::FileSystem& fs, const std::string& dir,
                                               const WalOptions& options) {
  REQUIRE(fs.make_dir(dir));
  REQUIRE(fs.sync_dir("/"));
  Replay r;
  auto wal = open_wal(fs, dir, options, r);
  REQUIRE(wal);
  return std::move(*wal);
}

// Runs fn in a fiber of the loop until every fiber finished.
inline void run_fiber(runtime::testing::IoLoop& loop, std::function<void()> fn) {
  loop.sched.spawn(std::move(fn));
  REQUIRE(loop.run());
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void patch_file(const std::string& path, std::uint64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
inline void flip_bit(const std::string& path, std::uint64_t offset, int bit = 0) {
  std::string byte = read_file(path).substr(offset, 1);
  byte[0] = static_cast<char>(byte[0] ^ (1 << bit));
  patch_file(path, offset, byte);
}

}  // namespace cascade::engine::testing
