#include "src/runtime/aligned_buffer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <utility>

using namespace cascade::runtime;

TEST_CASE("align_up and align_down round to the page, is_aligned tells which are exact") {
  CHECK(align_up(0) == 0);
  CHECK(align_up(1) == 4096);
  CHECK(align_up(4096) == 4096);
  CHECK(align_up(4097) == 8192);
  CHECK(align_down(4095) == 0);
  CHECK(align_down(8191) == 4096);
  CHECK(align_up(700, 512) == 1024);
  CHECK(is_aligned(8192));
  CHECK_FALSE(is_aligned(8190));
  CHECK(is_aligned(1536, 512));
}

TEST_CASE("an aligned buffer starts on a page, covers whole pages and starts zeroed") {
  AlignedBuffer buf(5000);
  CHECK(buf.size() == 8192);
  CHECK(is_aligned(buf.data()));
  CHECK(std::all_of(buf.data(), buf.data() + buf.size(), [](std::byte b) { return b == std::byte{0}; }));
  buf.data()[10] = std::byte{7};
  buf.clear();
  CHECK(buf.data()[10] == std::byte{0});
  CHECK(buf.first(100).size() == 100);
}

TEST_CASE("an uninitialized aligned buffer is page-aligned whole pages, and empty for size 0") {
  AlignedBuffer buf = AlignedBuffer::uninitialized(5000);
  CHECK(buf.size() == 8192);
  CHECK(is_aligned(buf.data()));
  buf.data()[8191] = std::byte{1};  // every rounded-up byte is usable (ASan checks)
  AlignedBuffer none = AlignedBuffer::uninitialized(0);
  CHECK(none.empty());
  CHECK(none.data() == nullptr);
}

TEST_CASE("moving an aligned buffer transfers ownership and empties the source") {
  AlignedBuffer a(4096);
  a.data()[0] = std::byte{42};
  std::byte* block = a.data();
  AlignedBuffer b(std::move(a));
  CHECK(b.data() == block);
  CHECK(b.data()[0] == std::byte{42});
  CHECK(a.empty());  // NOLINT: checking the moved-from state is the point
  CHECK(a.data() == nullptr);
  AlignedBuffer c;
  c = std::move(b);
  CHECK(c.data() == block);
  CHECK(b.empty());
  CHECK(AlignedBuffer(0).empty());
}
