// Key ownership: which of the 16384 hash slots a key belongs to, and which shard owns the
// slot. The function is Redis Cluster's, so a key lands in the slot CLUSTER KEYSLOT names:
//
//   slot  = CRC16(hashed part of key) mod 16384
//   shard = slot mod N  (N = the data directory's shard count)
//
// CRC16 is the XMODEM variant (polynomial 0x1021, initial value 0, no reflection, no final
// XOR). The hashed part is the whole key unless it holds a hashtag: when the key contains a
// '{' and, after the first '{', a '}', and the bytes between them are not empty, only those
// bytes are hashed. So "{user1000}.following" and "{user1000}.followers" share a slot, while
// "{}x" and "x{" hash whole.
//
// Pure functions of the bytes; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cascade::types {

inline constexpr std::uint32_t kSlotCount = 16384;

// CRC16/XMODEM of `data`.
std::uint16_t crc16(std::string_view data);

// The part of `key` that is hashed: its hashtag if it has one, else the whole key.
std::string_view hashed_part(std::string_view key);

// Redis Cluster's hash slot of `key`, in [0, kSlotCount).
inline std::uint32_t key_slot(std::string_view key) {
  return crc16(hashed_part(key)) & (kSlotCount - 1);
}

// The shard owning `key` among `shard_count` shards.
inline std::size_t key_shard(std::string_view key, std::size_t shard_count) {
  return key_slot(key) % shard_count;
}

}  // namespace cascade::types
