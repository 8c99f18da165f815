#include "src/runtime/small_buffer.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>

using cascade::runtime::SmallBuffer;

TEST_CASE("a small buffer keeps bytes that fit inside itself and others on the heap") {
  SmallBuffer<16> b;
  CHECK(b.view().empty());

  std::memcpy(b.prepare(16), "0123456789abcdef", 16);
  CHECK_FALSE(b.on_heap());
  CHECK(b.view() == "0123456789abcdef");
  const auto self = reinterpret_cast<std::uintptr_t>(&b);
  const auto data = reinterpret_cast<std::uintptr_t>(b.view().data());
  CHECK(data >= self);
  CHECK(data < self + sizeof b);

  const std::string big(17, 'x');
  std::memcpy(b.prepare(big.size()), big.data(), big.size());
  CHECK(b.on_heap());
  CHECK(b.view() == big);

  // Back to a short one: inside again, with only the new bytes.
  std::memcpy(b.prepare(3), "abc", 3);
  CHECK_FALSE(b.on_heap());
  CHECK(b.view() == "abc");

  b.prepare(0);
  CHECK(b.view().empty());
}
