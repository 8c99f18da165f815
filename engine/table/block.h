// A data or index block as the reader sees it: a bounds-checked view of its bytes and an
// iterator over its entries. The writer is BlockBuilder (block_builder.h).
//
// Block layout (uncompressed; all fixed-width integers little-endian):
//
//   entry*                        sorted by the block's key order, strictly increasing
//   restart[num_restarts]         fixed16 each: offset of a restart entry from block start
//   num_restarts                  fixed16
//
//   entry = shared       varint32  bytes of the key shared with the previous entry's key
//           non_shared   varint32  bytes of the key that follow
//           value_length varint32
//           key_suffix   [non_shared]
//           value        [value_length]
//
// A restart entry has shared == 0: its key is stored whole, so a seek binary-searches the
// restart keys and then scans at most one restart interval. The writer makes every
// restart_interval-th entry a restart (16 in data blocks, 1 in index blocks).
//
// Invariants the reader checks when a block is opened (Block::open): num_restarts fits the
// block; restart[0] == 0; restart offsets strictly increase and lie inside the entry area;
// a block with no restarts has no entries. Everything else (varints, lengths, shared
// prefixes, key sizes) is checked as the iterator decodes an entry. A violation becomes a
// Corruption status on the iterator, never an out-of-bounds read or an assertion.
//
// Size: 2-byte restart offsets address 64 KiB; the writer caps a block at kMaxBlockSize
// (32 KiB). The one exception is a block holding a single entry that alone exceeds the cap
// (a huge value when the value log is off): its only restart offset is 0, so it is
// representable at any size. Such a block is always stored uncompressed (FORMAT.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "engine/format/internal_key.h"
#include "src/runtime/result.h"

namespace cascade::engine {

constexpr std::size_t kMaxBlockSize = 32 * 1024;
constexpr int kDataBlockRestartInterval = 16;
constexpr int kIndexBlockRestartInterval = 1;

// The order of the keys in a block. `min_key_size` is the shortest key the order accepts:
// internal keys need their 8-byte trailer, so a shorter key read from disk is corruption
// (and never reaches compare, which assumes well-formed keys).
struct KeyComparator {
  int (*compare)(std::string_view a, std::string_view b);
  std::size_t min_key_size;
};

inline int compare_bytewise(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

inline constexpr KeyComparator kBytewiseComparator{&compare_bytewise, 0};
inline constexpr KeyComparator kInternalKeyComparator{&compare_internal_keys, kTrailerSize};

// Frees memory allocated with a 64-byte alignment (a cache line: filter probes rely on it).
struct CacheLineFree {
  void operator()(char* p) const { ::operator delete[](p, std::align_val_t{64}); }
};
using CacheLineBuffer = std::unique_ptr<char[], CacheLineFree>;
CacheLineBuffer allocate_cache_line_aligned(std::size_t size);

// The uncompressed bytes of one block: either a view of bytes someone else keeps alive (a
// raw block inside a read buffer) or bytes this object owns (a decompressed block).
struct BlockContents {
  std::string_view data;
  CacheLineBuffer owned;  // null when `data` views memory owned elsewhere
};

// `contents` owning its bytes: an owned block as it is, a viewed one copied (into a
// 64-byte aligned buffer).
BlockContents owning(BlockContents contents);

class BlockIterator;

// Where a block's restart array lies, as Block::open found it. A cache keeps it with the
// block's bytes so that a block checked once when it was read is not checked again on
// every lookup (an index partition's restart array has one slot per entry).
struct BlockLayout {
  std::uint32_t restarts_offset = 0;
  std::uint32_t num_restarts = 0;
};

class Block {
 public:
  // Checks the restart array (see the invariants above); Corruption if it does not fit.
  static Result<Block> open(BlockContents contents);
  // The block open() accepted before with this layout, over the same unchanged bytes (a
  // cached block): no checks repeated.
  static Block reopen(BlockContents contents, BlockLayout layout) {
    return Block(std::move(contents), layout.restarts_offset, layout.num_restarts);
  }

  // The iterator reads this block's bytes: the block must outlive it.
  BlockIterator iterator(const KeyComparator& comparator) const;

  std::size_t size() const { return contents_.data.size(); }
  std::uint32_t num_restarts() const { return num_restarts_; }
  BlockLayout layout() const { return {restarts_offset_, num_restarts_}; }
  std::string_view data() const { return contents_.data; }

 private:
  Block(BlockContents contents, std::uint32_t restarts_offset, std::uint32_t num_restarts)
      : contents_(std::move(contents)), restarts_offset_(restarts_offset),
        num_restarts_(num_restarts) {}

  BlockContents contents_;
  std::uint32_t restarts_offset_;  // where the entries end and the restart array begins
  std::uint32_t num_restarts_;
};

// Positions over the entries of one block. key() and value() stay valid until the iterator
// moves. value() always views the block; key() views the block for restart entries and an
// iterator-owned buffer otherwise (a prefix-compressed key must be rebuilt), so after the
// buffer has grown to the longest key, moving the iterator never allocates.
//
// Once the iterator meets corruption it stays invalid and status() keeps the Corruption.
class BlockIterator {
 public:
  bool valid() const { return current_ < restarts_offset_; }
  const Status& status() const { return status_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }

  void seek_to_first();
  void seek_to_last();
  // Positions at the first entry whose key is >= target (invalid if there is none).
  void seek(std::string_view target);
  void next();
  void prev();

 private:
  friend class Block;
  BlockIterator(const char* data, std::uint32_t restarts_offset, std::uint32_t num_restarts,
                const KeyComparator& comparator)
      : data_(data), restarts_offset_(restarts_offset), num_restarts_(num_restarts),
        comparator_(comparator), current_(restarts_offset), next_(restarts_offset),
        restart_index_(num_restarts) {}

  std::uint32_t restart_point(std::uint32_t index) const;
  void start_at_restart(std::uint32_t index);
  bool parse_next_entry();
  bool restart_key(std::uint32_t index, std::string_view& key);
  std::uint32_t find_restart_before(std::string_view target);
  void mark_invalid();
  void mark_corrupt(const char* what);

  const char* data_;
  std::uint32_t restarts_offset_;
  std::uint32_t num_restarts_;
  KeyComparator comparator_;

  std::uint32_t current_;        // offset of the current entry; restarts_offset_ when invalid
  std::uint32_t next_;           // offset just past the current entry
  std::uint32_t restart_index_;  // restart interval holding the current entry
  std::string key_buf_;
  std::string_view key_;
  std::string_view value_;
  Status status_;
};

}  // namespace cascade::engine
