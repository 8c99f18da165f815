// See rdb_containers.h for the layouts.
#include "src/types/rdb_containers.h"

#include <cstdint>

#include "resp/decimal.h"

namespace cascade::types {
namespace {

std::uint64_t load_le(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

// Sign-extends the low `bits` bits of v.
std::int64_t sign_extend(std::uint64_t v, int bits) {
  if (bits >= 64) return static_cast<std::int64_t>(v);
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  v &= (sign << 1) - 1;
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

void push_int(std::vector<std::string>& out, std::int64_t v) {
  char digits[resp::kMaxInt64Chars];
  out.emplace_back(digits, resp::format_int64(v, digits));
}

// The size of a listpack entry's backlen field for an entry of `size` bytes.
std::size_t backlen_size(std::size_t size) {
  if (size < 128) return 1;
  if (size < 16384) return 2;
  if (size < 2097152) return 3;
  if (size < 268435456) return 4;
  return 5;
}

}  // namespace

bool read_listpack(std::string_view bytes, std::vector<std::string>& out) {
  if (bytes.size() < 7 || load_le(bytes.data(), 4) != bytes.size()) return false;
  const std::uint64_t declared = load_le(bytes.data() + 4, 2);
  std::size_t pos = 6;
  std::uint64_t count = 0;
  for (;;) {
    if (pos >= bytes.size()) return false;
    const auto b = static_cast<std::uint8_t>(bytes[pos]);
    if (b == 0xFF) break;
    const std::size_t start = pos;
    const std::size_t left = bytes.size() - pos;
    std::size_t header = 0, length = 0;
    bool is_string = false;
    std::int64_t value = 0;
    if ((b & 0x80) == 0) {
      header = 1;
      value = b & 0x7F;
    } else if ((b & 0xC0) == 0x80) {
      header = 1;
      length = b & 0x3F;
      is_string = true;
    } else if ((b & 0xE0) == 0xC0) {
      if (left < 2) return false;
      header = 2;
      value = sign_extend(((b & 0x1Fu) << 8) | static_cast<std::uint8_t>(bytes[pos + 1]), 13);
    } else if ((b & 0xF0) == 0xE0) {
      if (left < 2) return false;
      header = 2;
      length = ((b & 0x0Fu) << 8) | static_cast<std::uint8_t>(bytes[pos + 1]);
      is_string = true;
    } else if (b == 0xF0) {
      if (left < 5) return false;
      header = 5;
      length = load_le(bytes.data() + pos + 1, 4);
      is_string = true;
    } else if (b >= 0xF1 && b <= 0xF4) {
      const int width = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8;
      if (left < static_cast<std::size_t>(1 + width)) return false;
      header = 1 + static_cast<std::size_t>(width);
      value = sign_extend(load_le(bytes.data() + pos + 1, width), 8 * width);
    } else {
      return false;  // 0xF5-0xFE are not encodings
    }
    const std::size_t entry = header + length;
    if (length > left || entry > left) return false;
    if (is_string) {
      out.emplace_back(bytes.substr(pos + header, length));
    } else {
      push_int(out, value);
    }
    pos = start + entry + backlen_size(entry);
    ++count;
  }
  if (pos + 1 != bytes.size()) return false;
  return declared == 65535 || declared == count;
}

bool read_ziplist(std::string_view bytes, std::vector<std::string>& out) {
  if (bytes.size() < 11 || load_le(bytes.data(), 4) != bytes.size()) return false;
  const std::uint64_t declared = load_le(bytes.data() + 8, 2);
  std::size_t pos = 10;
  std::uint64_t count = 0;
  for (;;) {
    if (pos >= bytes.size()) return false;
    if (static_cast<std::uint8_t>(bytes[pos]) == 0xFF) break;
    // Previous entry length: 1 byte, or 0xFE and a u32.
    pos += static_cast<std::uint8_t>(bytes[pos]) == 0xFE ? 5 : 1;
    if (pos >= bytes.size()) return false;
    const auto b = static_cast<std::uint8_t>(bytes[pos]);
    const std::size_t left = bytes.size() - pos;
    std::size_t header = 1, length = 0;
    switch (b >> 6) {
      case 0: length = b & 0x3F; break;
      case 1:
        if (left < 2) return false;
        header = 2;
        length = ((b & 0x3Fu) << 8) | static_cast<std::uint8_t>(bytes[pos + 1]);
        break;
      case 2:
        if (b != 0x80 || left < 5) return false;
        header = 5;
        for (int i = 1; i <= 4; ++i) length = (length << 8) | static_cast<std::uint8_t>(bytes[pos + i]);
        break;
      default: {
        int width = 0;
        if (b == 0xC0) width = 2;
        else if (b == 0xD0) width = 4;
        else if (b == 0xE0) width = 8;
        else if (b == 0xF0) width = 3;
        else if (b == 0xFE) width = 1;
        else if (b >= 0xF1 && b <= 0xFD) {
          push_int(out, (b & 0x0F) - 1);
          pos += 1;
          ++count;
          continue;
        } else {
          return false;
        }
        if (left < static_cast<std::size_t>(1 + width)) return false;
        push_int(out, sign_extend(load_le(bytes.data() + pos + 1, width), 8 * width));
        pos += 1 + static_cast<std::size_t>(width);
        ++count;
        continue;
      }
    }
    if (length > left - header) return false;
    out.emplace_back(bytes.substr(pos + header, length));
    pos += header + length;
    ++count;
  }
  if (pos + 1 != bytes.size()) return false;
  return declared == 65535 || declared == count;
}

bool read_intset(std::string_view bytes, std::vector<std::string>& out) {
  if (bytes.size() < 8) return false;
  const std::uint64_t width = load_le(bytes.data(), 4);
  const std::uint64_t count = load_le(bytes.data() + 4, 4);
  if (width != 2 && width != 4 && width != 8) return false;
  if (bytes.size() - 8 != width * count) return false;
  bool first = true;
  std::int64_t previous = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::int64_t v = sign_extend(
        load_le(bytes.data() + 8 + i * width, static_cast<int>(width)), 8 * static_cast<int>(width));
    if (!first && v <= previous) return false;  // intsets are strictly ascending
    first = false;
    previous = v;
    push_int(out, v);
  }
  return true;
}

}  // namespace cascade::types
