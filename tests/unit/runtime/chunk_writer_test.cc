// ChunkWriter: chunks land in order at consecutive offsets, the next chunk is filled while
// the last one is being written (at most one write in flight), and a failed write is
// reported by the next call and every call after it.
#include "src/runtime/chunk_writer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "src/runtime/scheduler.h"
#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade::runtime;
using cascade::Result;
using cascade::Status;
using cascade::runtime::testing::IoLoop;

namespace {

// A file whose writes take `latency` of fiber sleep each, recording what they wrote.
class SlowFile final : public FileHandle {
 public:
  explicit SlowFile(Duration latency) : latency_(latency) {}

  Result<std::size_t> read_at(std::uint64_t, std::span<std::byte>) override {
    return Status::not_supported("read");
  }
  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    if (latency_.count() > 0 && Scheduler::current() && Scheduler::current()->in_fiber()) {
      this_fiber::sleep_for(latency_);
    }
    --in_flight;
    if (writes++ == fail_write) return Status::io_error("injected write failure");
    writes_at[offset] = std::string(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::ok();
  }
  Status sync() override { return Status::ok(); }
  Status allocate(std::uint64_t, std::uint64_t) override { return Status::ok(); }
  Status truncate(std::uint64_t) override { return Status::ok(); }
  Result<std::uint64_t> size() override { return std::uint64_t{0}; }
  Status close() override { return Status::ok(); }
  const std::string& path() const override { return path_; }

  int in_flight = 0;
  int max_in_flight = 0;
  int writes = 0;
  int fail_write = -1;  // the index of the write to fail
  std::map<std::uint64_t, std::string> writes_at;

 private:
  Duration latency_;
  std::string path_ = "slow";
};

void fill(ChunkWriter& w, std::size_t length, char c) {
  std::memset(w.buffer().data(), c, length);
}

}  // namespace

TEST_CASE("chunk writer: chunks land in order while the next one is filled") {
  IoLoop loop;
  SlowFile file(std::chrono::milliseconds(5));
  loop.sched.spawn([&] {
    ChunkWriter w(file, 8192, 4096);
    CHECK(w.chunk_size() == 8192);
    for (int i = 0; i < 6; ++i) {
      fill(w, 8192, static_cast<char>('a' + i));
      REQUIRE(w.submit(i == 5 ? 4096 : 8192));
      // The write is under way, yet submit returned: the caller fills the other buffer.
      CHECK(file.in_flight == 1);
    }
    CHECK(w.next_offset() == 4096 + 5 * 8192 + 4096);
    REQUIRE(w.wait());
    CHECK(file.in_flight == 0);
  });
  REQUIRE(loop.run());
  CHECK(file.max_in_flight == 1);
  REQUIRE(file.writes_at.size() == 6);
  std::uint64_t offset = 4096;
  for (int i = 0; i < 6; ++i) {
    const std::string& chunk = file.writes_at.at(offset);
    CHECK(chunk == std::string(i == 5 ? 4096 : 8192, static_cast<char>('a' + i)));
    offset += chunk.size();
  }
}

TEST_CASE("chunk writer: a failed write is reported by the next call and every call after") {
  IoLoop loop;
  SlowFile file(std::chrono::milliseconds(1));
  file.fail_write = 1;
  loop.sched.spawn([&] {
    ChunkWriter w(file, 4096);
    fill(w, 4096, 'x');
    REQUIRE(w.submit(4096));
    fill(w, 4096, 'y');
    REQUIRE(w.submit(4096));  // the first write succeeded; this one will fail
    fill(w, 4096, 'z');
    Status s = w.submit(4096);
    CHECK(s.code() == cascade::StatusCode::kIoError);
    CHECK(w.wait().code() == cascade::StatusCode::kIoError);
    CHECK(w.submit(4096).code() == cascade::StatusCode::kIoError);
  });
  REQUIRE(loop.run());
  CHECK(file.writes == 2);  // nothing was written after the failure was seen
  CHECK(file.writes_at.size() == 1);
}

TEST_CASE("chunk writer: outside a fiber every write is made in place") {
  SlowFile file(Duration(0));
  ChunkWriter w(file, 4096);
  fill(w, 4096, 'q');
  REQUIRE(w.submit(4096));
  CHECK(file.writes == 1);
  fill(w, 4096, 'r');
  REQUIRE(w.submit(4096));
  REQUIRE(w.wait());
  CHECK(file.writes_at.at(0) == std::string(4096, 'q'));
  CHECK(file.writes_at.at(4096) == std::string(4096, 'r'));
}

TEST_CASE("chunk writer: destruction waits for the write in flight") {
  IoLoop loop;
  SlowFile file(std::chrono::milliseconds(5));
  loop.sched.spawn([&] {
    {
      ChunkWriter w(file, 4096);
      fill(w, 4096, 'd');
      REQUIRE(w.submit(4096));
      CHECK(file.in_flight == 1);
    }
    CHECK(file.in_flight == 0);
    CHECK(file.writes_at.count(0) == 1);
  });
  REQUIRE(loop.run());
}
