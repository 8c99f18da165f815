// ReplyBuffer: the segment chain survives short writes at every byte and keeps payloads
// it took over alive.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "resp/reply_buffer.h"

namespace cascade::resp {
namespace {

// Sends everything through gather/consume in writes of at most `max_write` bytes using
// at most `max_iov` iovecs per write, as a connection would with short writes.
std::string drain(ReplyBuffer& b, std::size_t max_write, std::size_t max_iov) {
  std::string sent;
  std::vector<iovec> iov(max_iov);
  while (!b.empty()) {
    const std::size_t n = b.gather(iov);
    REQUIRE(n > 0);
    std::size_t budget = max_write;
    std::size_t wrote = 0;
    for (std::size_t i = 0; i < n && budget > 0; ++i) {
      const std::size_t take = std::min(budget, iov[i].iov_len);
      sent.append(static_cast<const char*>(iov[i].iov_base), take);
      budget -= take;
      wrote += take;
    }
    b.consume(wrote);
  }
  return sent;
}

std::string fill(ReplyBuffer& b, const std::string& referenced) {
  b.append("head:");
  b.append_reference(referenced);
  b.append(":mid:");
  const std::size_t id = b.append_placeholder();
  b.append_owned(std::string(300, 'O'));
  b.append(":tail");
  b.fill_placeholder(id, "*12\r\n");
  return "head:" + referenced + ":mid:*12\r\n" + std::string(300, 'O') + ":tail";
}

}  // namespace

TEST_CASE("reply buffer is one contiguous view while only owned bytes were added") {
  ReplyBuffer b(64);
  b.append("+OK\r\n");
  b.append(std::string(1000, 'x'));  // grows past the initial capacity
  CHECK(b.contiguous());
  CHECK(b.view() == "+OK\r\n" + std::string(1000, 'x'));
  b.consume(3);
  CHECK(b.view().substr(0, 2) == "\r\n");
  CHECK(b.size() == 1002);
  b.consume(1002);
  CHECK(b.empty());
  CHECK(b.view().empty());
}

TEST_CASE("reply buffer delivers every byte in order across short writes at every size") {
  const std::string referenced(200, 'R');
  for (std::size_t max_write = 1; max_write <= 700; max_write += (max_write < 20 ? 1 : 37)) {
    for (std::size_t max_iov : {1, 2, 8}) {
      CAPTURE(max_write);
      CAPTURE(max_iov);
      ReplyBuffer b(64);
      const std::string want = fill(b, referenced);
      CHECK(b.size() == want.size());
      CHECK(b.to_string() == want);
      CHECK(drain(b, max_write, max_iov) == want);
      CHECK(b.empty());
      CHECK(b.contiguous());  // emptied itself
    }
  }
}

TEST_CASE("reply buffer keeps working after partial consumption and more appends") {
  const std::string referenced(50, 'R');
  ReplyBuffer b(64);
  b.append("abc");
  b.consume(2);
  b.append_reference(referenced);
  b.append("xyz");
  CHECK(b.to_string() == "c" + referenced + "xyz");
  b.consume(1 + 50 + 1);
  b.append("!");
  CHECK(b.to_string() == "yz!");
  CHECK(b.segment_count() == 1);
}

TEST_CASE("reply buffer allocates on the first append and release() frees it") {
  ReplyBuffer b;
  CHECK(b.capacity() == 0);
  CHECK(b.empty());
  CHECK(b.contiguous());
  CHECK(b.view().empty());
  b.append("+PONG\r\n");
  CHECK(b.capacity() == kDefaultReplyCapacity);
  CHECK(b.view() == "+PONG\r\n");
  b.consume(7);
  CHECK(b.capacity() == kDefaultReplyCapacity);  // emptied, kept for the next batch
  b.release();
  CHECK(b.capacity() == 0);
  b.append(":1\r\n");
  CHECK(b.view() == ":1\r\n");
  CHECK(b.capacity() == kDefaultReplyCapacity);
}

TEST_CASE("reply buffer: a big reply grows the array by doubling, kept until release") {
  ReplyBuffer b;
  std::string want;
  std::size_t grows = 0;
  std::size_t last = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string piece = ":" + std::to_string(i) + "\r\n";
    b.append(piece);
    want += piece;
    if (b.capacity() != last) ++grows;
    last = b.capacity();
  }
  CHECK(b.to_string() == want);
  CHECK(grows <= 12);  // doubling from 512 B past ~130 KB: a handful of allocations
  CHECK(b.capacity() < 2 * want.size());
  b.consume(b.size());
  CHECK(b.capacity() == last);
  b.release();
  CHECK(b.capacity() == 0);
}

TEST_CASE("reply buffer: release() drops referenced and owned payloads and starts anew") {
  ReplyBuffer b(64);
  b.append("$5\r\n");
  b.append_owned(std::string(5000, 'p'));
  b.append("\r\n");
  CHECK_FALSE(b.contiguous());
  b.release();
  CHECK(b.empty());
  CHECK(b.contiguous());
  CHECK(b.capacity() == 0);
  b.append("+OK\r\n");
  CHECK(b.to_string() == "+OK\r\n");
  CHECK(b.capacity() == 64);
}

}  // namespace cascade::resp
