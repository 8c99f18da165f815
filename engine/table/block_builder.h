// Builds one block: prefix-compressed entries, then the restart array (layout in block.h
// and engine/FORMAT.md, "Data and index blocks").
//
// Keys must be added in strictly increasing order of the builder's KeyComparator; every
// restart_interval-th entry is stored with its whole key (a restart point).
//
// Size rule: a finished block is at most size_cap bytes (<= kMaxBlockSize, 32 KiB), which
// keeps every restart offset below 64 KiB. fits() says whether an entry can join the
// block; add() refuses one that does not fit, with InvalidArgument. The exception: an
// empty builder accepts any single entry, so an entry larger than the cap is still
// representable, alone in its block (restart offset 0). A caller that wants smaller
// blocks (the table builder cutting at a page-sized compressed target) asks size_after().
//
// Hot path: add() appends to one buffer and copies the key once into last_key_; no
// allocation once the buffers have grown to a block's size. reset() keeps the capacity.
// remove_first() (after a page overflow, rare) decodes and copies; it is not on that path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/block.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct BlockBuilderOptions {
  int restart_interval = kDataBlockRestartInterval;
  std::size_t size_cap = kMaxBlockSize;  // clamped to kMaxBlockSize
  KeyComparator comparator = kInternalKeyComparator;
};

class BlockBuilder {
 public:
  explicit BlockBuilder(const BlockBuilderOptions& options = {});

  // Size of the finished block if (key, value) were added now.
  std::size_t size_after(std::string_view key, std::string_view value) const;
  // True if (key, value) can be added: the block is empty, or stays within size_cap.
  bool fits(std::string_view key, std::string_view value) const;
  // InvalidArgument if the key is out of order, too short for the key order, or the entry
  // does not fit; the builder is unchanged then.
  Status add(std::string_view key, std::string_view value);

  // Appends the restart array; the view stays valid until the builder is next modified.
  // After finish(), only finish(), prefix_block(), remove_first() and reset() may be called.
  std::string_view finish();

  // For the page packer, when a compressed block overflows a page and gives back entries:
  // prefix_block(count) is the finished block of the first `count` entries (the builder is
  // unchanged; the view stays valid until the builder is next modified), and
  // remove_first(count) drops those entries and keeps the later ones as the start of the
  // next block, re-encoded (the first becomes a restart). remove_first decodes and copies
  // the kept entries: it is for that rare path only. 0 < count <= num_entries().
  std::string_view prefix_block(std::size_t count);
  std::size_t prefix_size(std::size_t count) const;  // prefix_block(count).size()
  void remove_first(std::size_t count);

  // Starts a new, empty block.
  void reset();

  // Size finish() would return now.
  std::size_t current_size() const;
  bool empty() const { return num_entries_ == 0; }
  std::size_t num_entries() const { return num_entries_; }
  std::string_view last_key() const { return last_key_; }
  const KeyComparator& comparator() const { return options_.comparator; }

 private:
  std::size_t shared_prefix(std::string_view key) const;
  bool starts_restart() const;
  void append_entry(std::string_view key, std::string_view value);

  BlockBuilderOptions options_;
  std::string buffer_;
  std::vector<std::uint16_t> restarts_;
  std::vector<std::uint32_t> entry_ends_;  // offset just past each entry
  std::string prefix_block_;               // prefix_block()'s result
  int entries_since_restart_ = 0;
  std::size_t num_entries_ = 0;
  std::string last_key_;
  bool finished_ = false;
};

}  // namespace cascade::engine
