// Explicit byte encodings for everything the engine writes to disk.
//
// Fixed-width integers are little-endian whatever the host; varints are LEB128 (7 bits per
// byte, low bits first, high bit set on every byte but the last: at most 5 bytes for 32
// bits, 10 for 64). Nothing on disk is ever a struct's memory image.
//
// Decoders take a std::string_view cursor and advance it; they return false on truncated or
// over-long input and never read past the view, so a corrupt length is caught, not followed.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cascade::engine {

inline void store_fixed16(char* dst, std::uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
inline void store_fixed32(char* dst, std::uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, &v, 4);
  } else {
    for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
  }
}
inline void store_fixed64(char* dst, std::uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
  }
}

inline std::uint16_t load_fixed16(const char* p) {
  auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>(u[0] | (u[1] << 8));
}
inline std::uint32_t load_fixed32(const char* p) {
  std::uint32_t v;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, 4);
  } else {
    auto* u = reinterpret_cast<const unsigned char*>(p);
    v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | u[i];
  }
  return v;
}
inline std::uint64_t load_fixed64(const char* p) {
  std::uint64_t v;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, 8);
  } else {
    auto* u = reinterpret_cast<const unsigned char*>(p);
    v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  }
  return v;
}

inline void put_fixed16(std::string& dst, std::uint16_t v) {
  char b[2];
  store_fixed16(b, v);
  dst.append(b, 2);
}
inline void put_fixed32(std::string& dst, std::uint32_t v) {
  char b[4];
  store_fixed32(b, v);
  dst.append(b, 4);
}
inline void put_fixed64(std::string& dst, std::uint64_t v) {
  char b[8];
  store_fixed64(b, v);
  dst.append(b, 8);
}

constexpr int kMaxVarint32Bytes = 5;
constexpr int kMaxVarint64Bytes = 10;

// Writes v at dst (which has room for kMaxVarint64Bytes); returns one past the last byte.
inline char* store_varint64(char* dst, std::uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}
inline void put_varint64(std::string& dst, std::uint64_t v) {
  char b[kMaxVarint64Bytes];
  dst.append(b, store_varint64(b, v) - b);
}
inline void put_varint32(std::string& dst, std::uint32_t v) { put_varint64(dst, v); }

inline int varint_length(std::uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline bool get_varint64(std::string_view& in, std::uint64_t& out) {
  std::uint64_t v = 0;
  for (int i = 0; i < kMaxVarint64Bytes && i < static_cast<int>(in.size()); ++i) {
    auto byte = static_cast<unsigned char>(in[i]);
    if (i == kMaxVarint64Bytes - 1 && byte > 1) return false;  // would overflow 64 bits
    v |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      in.remove_prefix(i + 1);
      out = v;
      return true;
    }
  }
  return false;
}
inline bool get_varint32(std::string_view& in, std::uint32_t& out) {
  std::string_view probe = in;
  std::uint64_t v;
  if (!get_varint64(probe, v) || v > UINT32_MAX) return false;
  in = probe;
  out = static_cast<std::uint32_t>(v);
  return true;
}

inline bool get_fixed32(std::string_view& in, std::uint32_t& out) {
  if (in.size() < 4) return false;
  out = load_fixed32(in.data());
  in.remove_prefix(4);
  return true;
}
inline bool get_fixed64(std::string_view& in, std::uint64_t& out) {
  if (in.size() < 8) return false;
  out = load_fixed64(in.data());
  in.remove_prefix(8);
  return true;
}

// A varint length followed by that many bytes.
inline void put_length_prefixed(std::string& dst, std::string_view s) {
  put_varint64(dst, s.size());
  dst.append(s);
}
inline bool get_length_prefixed(std::string_view& in, std::string_view& out) {
  std::string_view probe = in;
  std::uint64_t n;
  if (!get_varint64(probe, n) || n > probe.size()) return false;
  out = probe.substr(0, n);
  probe.remove_prefix(n);
  in = probe;
  return true;
}

}  // namespace cascade::engine
