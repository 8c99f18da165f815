// BTree: the memtable's ordered index, a B+tree of entry pointers living in the arena.
//
// Shape. Leaves hold up to kLeafCapacity (prefix, entry) pairs in internal-key order and are
// linked both ways; inner nodes hold up to kInnerCapacity separators (prefix, entry) and one
// more child than separators. Child i of an inner node holds the keys k with
// separator[i-1] <= k < separator[i]. A split keeps the left part in place and moves the
// right part to a new node, so the first leaf never changes. Nodes are cache-line aligned
// and never freed; entries never move (see memtable_entry.h).
//
// Runs. Each leaf remembers where its latest insert went and how many inserts in a row
// moved the same way. A full leaf normally splits in half. When its inserts keep moving
// forward (ascending keys, or new keys merged in ascending order among existing ones, as
// "key1".."key99999" arrive), the entries the run has passed first move into the left
// neighbour's free slots, and once it is full the leaf splits just after the new entry:
// passed leaves end up full instead of half empty. Backward runs mirror this with the
// right neighbour. Inner nodes split in half.
//
// Shared bytes. Every node keeps the bytes all of its keys begin with (`common`, up to
// kMaxCommon; for leaves the entries' user keys, for inner nodes the separators'), and next
// to each key the 8 bytes that follow them (key_prefix at offset `common`). A search first
// compares the key with the shared bytes: a key that does not begin with them orders before
// or after the whole node at once; otherwise the 8 bytes after them decide most steps
// without reading the entry. The server's keys all start with a database id and a key-space
// byte, and real key sets share more ("user:session:..."), so prefixes taken at offset 0
// would tie on every step and every step would read its entry: a cache miss each.
// `common` may be shorter than what the keys share (it is refitted when a key that does
// not share it arrives, and when a split or a shift leaves the node's keys sharing
// kRefitGain more bytes); it is never longer.
//
// Why a B+tree (DESIGN, "Memtable"): the shard is single-threaded, so a skiplist's only
// advantage, lock-free concurrent insertion, buys nothing, while a lookup here reads a few
// nodes whose prefix arrays are contiguous instead of chasing one pointer per level and per
// step. memtable.h records the measurement.
//
// Invariants:
//   - Internal keys are unique (the engine gives every write its own sequence number).
//   - Every leaf but an empty tree's only leaf holds at least one entry.
//   - A leaf's `version` changes whenever its arrays change (an insert, a split, entries
//     shifted in or out).
//   - Every key of a node begins with its common_bytes[0, common), and its prefix is
//     key_prefix(its user key, common).
//
// Iterators stay usable while the tree grows: an iterator remembers its entry and the
// version of its leaf; when the leaf has changed since, it finds its entry again (one
// descent) before stepping. So next()/prev() always move to the neighbour in the tree as it
// is now, including entries added after the iterator was positioned.
//
// Concurrency: single-threaded. An iterator must not outlive its tree.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "engine/memtable/arena.h"
#include "engine/memtable/memtable_entry.h"

namespace cascade::engine {

class BTree {
  struct Leaf;

 public:
  static constexpr std::uint32_t kLeafCapacity = 32;
  static constexpr std::uint32_t kInnerCapacity = 32;

  explicit BTree(Arena& arena);
  BTree(const BTree&) = delete;
  BTree& operator=(const BTree&) = delete;

  // Adds an entry made by make_entry(); its internal key must not be in the tree yet.
  void insert(const char* entry);
  // Asks the cache for the nodes on the paths to `keys` (at most kMaxPrefetch of them), a
  // level at a time for all of them: inserting random keys is a cache miss per level, and
  // this lets the misses of a batch's keys wait side by side instead of one after another.
  // Changes nothing; the inserts that follow find their nodes in the cache, and an
  // overwritten key's older version, which the insert's search reads on a prefix tie.
  // Measured (redis-benchmark SET -P 16 -c 50 over 1M keys, everysec, 6 alternating
  // rounds): 308k -> 349k SETs/s, server CPU per SET 3.75 -> 3.29 us (medians). In
  // bench-engine-memtable's unique keys (no ties) groups of 16 insert within noise of one
  // at a time (895 against 918 ns, medians of 4): the gain is mostly the overwrites.
  static constexpr std::size_t kMaxPrefetch = 32;
  void prefetch(std::span<const SearchKey> keys) const { prefetch(keys, nullptr); }

  // Where a prefetch found a key's leaf, so its insert need not descend again: a batch's
  // inserts otherwise searched every inner node twice, once to fetch the path and once to
  // insert (a tenth of a collection write's CPU). The hint is the leaf and its version at
  // the prefetch. A leaf's key range changes only when its own entries do (a split of it,
  // entries shifted into or out of it), and each of those changes its version; leaves are
  // never freed. So while the version is the same, the key still belongs in that leaf, and
  // insert() puts it there after a search of the leaf alone; otherwise (the leaf changed,
  // or it is full and the insert needs the path to split or shift) it descends as usual.
  struct InsertHint {
    const void* leaf = nullptr;
    std::uint32_t version = 0;
  };
  // prefetch() that also fills hints[i] for keys[i] (hints has room for as many as it
  // fetches: min(keys.size(), kMaxPrefetch)).
  void prefetch(std::span<const SearchKey> keys, InsertHint* hints) const;
  // insert(entry) for an entry whose key was prefetched with `hint`. Returns the hint's
  // leaf at its new version when the entry went into it without a split or shift (its range
  // is then unchanged), so hints of later keys in that leaf can follow it (MemTable::add_all
  // refreshes them: a batch's neighbouring keys share leaves); else an empty hint.
  InsertHint insert(const char* entry, const InsertHint& hint);
  std::size_t size() const { return size_; }
  int height() const { return height_; }  // 0: the root is a leaf

  class Iterator {
   public:
    explicit Iterator(const BTree& tree) : tree_(&tree) {}

    bool valid() const { return leaf_ != nullptr; }
    const char* entry() const { return entry_; }  // requires valid()

    // First entry whose internal key is >= `internal_key`.
    void seek(std::string_view internal_key) { seek(SearchKey::from_internal_key(internal_key)); }
    void seek(const SearchKey& key);
    void seek_to_first();
    void seek_to_last();
    void next();  // requires valid()
    void prev();  // requires valid()

   private:
    static constexpr std::uint32_t kPrefetchDistance = 6;
    static void prefetch_entry(const char* entry);
    void set(const Leaf* leaf, std::uint32_t index);
    void resync();

    const BTree* tree_;
    const Leaf* leaf_ = nullptr;
    std::uint32_t index_ = 0;
    std::uint32_t version_ = 0;
    const char* entry_ = nullptr;
  };

 private:
  static constexpr int kMaxHeight = 16;  // 32^16 entries: never reached
  static constexpr std::size_t kMaxCommon = 48;  // shared bytes a node keeps
  static constexpr std::size_t kRefitGain = 4;   // growth worth retaking every prefix

  struct alignas(Arena::kMaxAlignment) Leaf {
    std::uint16_t count = 0;
    std::uint16_t last_insert = 0;  // position of the latest insert
    std::int16_t run = 0;           // > 0: inserts in a row moving forward; < 0: backward
    std::uint8_t common = 0;        // bytes every key begins with: common_bytes[0, common)
    std::uint32_t version = 0;
    Leaf* prev = nullptr;
    Leaf* next = nullptr;
    char common_bytes[kMaxCommon];
    KeyPrefix prefix[kLeafCapacity];
    const char* entry[kLeafCapacity];
  };
  struct alignas(Arena::kMaxAlignment) Inner {
    std::uint32_t count = 0;  // separators; children = count + 1
    std::uint8_t common = 0;
    char common_bytes[kMaxCommon];
    KeyPrefix prefix[kInnerCapacity];
    const char* separator[kInnerCapacity];
    void* child[kInnerCapacity + 1];
  };
  // The inner nodes from the root's child level down to the leaf's parent, and the child
  // taken in each; index 0 is the leaf's parent.
  struct Path {
    Inner* node[kMaxHeight];
    std::uint32_t slot[kMaxHeight];
  };
  // Where a separator lives: node->separator[index] (and its prefix).
  struct SeparatorRef {
    Inner* node = nullptr;
    std::uint32_t index = 0;
  };
  // What a split hands to the parent: the new right node and its smallest key.
  struct Promoted {
    const char* separator;
    void* right;
  };

  Leaf* new_leaf();
  Inner* new_inner();
  // The leaf where `key` belongs and the position of the first entry >= key (may be count).
  const Leaf* find_leaf(const SearchKey& key, std::uint32_t& pos) const;
  static std::uint32_t child_index(const Inner& inner, const SearchKey& key);
  static std::uint32_t leaf_position(const Leaf& leaf, const SearchKey& key);
  Leaf* descend(const SearchKey& key, Path& path);
  template <typename Node>
  static int side_of(const Node& node, std::string_view user_key);
  template <typename Node>
  static void refit(Node& node, const char* const* keys, bool prefixes_valid);
  static void insert_into_leaf(Leaf* leaf, std::uint32_t pos, const SearchKey& key,
                               const char* entry);
  static void insert_separator(Inner* inner, std::uint32_t slot, const Promoted& up);
  static void note_insert(Leaf& leaf, std::uint32_t pos);
  static bool shift_to_prev(Leaf* leaf, std::uint32_t& pos);
  static bool shift_to_next(Leaf* leaf, std::uint32_t pos);
  SeparatorRef boundary_before(const Path& path) const;
  SeparatorRef boundary_after(const Path& path) const;
  static void set_separator(SeparatorRef ref, const Leaf* first_of);
  void add_to_parents(const Path& path, Promoted up);
  static std::uint32_t split_point(const Leaf& leaf, std::uint32_t pos);
  Promoted split_leaf(Leaf* leaf, std::uint32_t pos, const SearchKey& key, const char* entry);
  Promoted split_inner(Inner* node, std::uint32_t slot, const Promoted& up);
  void grow_root(const Promoted& up);

  Arena& arena_;
  void* root_;
  int height_ = 0;
  Leaf* first_leaf_;
  Leaf* last_leaf_;
  std::size_t size_ = 0;
};

inline void BTree::Iterator::set(const Leaf* leaf, std::uint32_t index) {
  leaf_ = leaf;
  if (leaf == nullptr) return;
  index_ = index;
  version_ = leaf->version;
  entry_ = leaf->entry[index];
}

// A scan reads entries in key order, which is not their order in the arena (insertion
// order): every step would wait for a cache miss on its entry. Each step therefore asks
// for the entry kPrefetchDistance positions ahead (its key and the start of its value: two
// lines), and entering a leaf asks for the next leaf and the first entries of this one.
inline void BTree::Iterator::prefetch_entry(const char* entry) {
  __builtin_prefetch(entry);
  __builtin_prefetch(entry + 64);
}

inline void BTree::Iterator::next() {
  if (leaf_->version != version_) resync();
  if (index_ + 1 < leaf_->count) {
    set(leaf_, index_ + 1);
    if (index_ + kPrefetchDistance < leaf_->count) prefetch_entry(leaf_->entry[index_ + kPrefetchDistance]);
  } else {
    const Leaf* leaf = leaf_->next;
    set(leaf, 0);
    if (leaf == nullptr) return;
    __builtin_prefetch(leaf->next);
    const std::uint32_t ahead = std::min<std::uint32_t>(leaf->count, kPrefetchDistance + 1);
    for (std::uint32_t i = 1; i < ahead; ++i) prefetch_entry(leaf->entry[i]);
  }
}

inline void BTree::Iterator::prev() {
  if (leaf_->version != version_) resync();
  if (index_ > 0) {
    set(leaf_, index_ - 1);
    if (index_ >= kPrefetchDistance) prefetch_entry(leaf_->entry[index_ - kPrefetchDistance]);
  } else {
    const Leaf* before = leaf_->prev;
    set(before, before == nullptr ? 0 : before->count - 1);
    if (before == nullptr) return;
    __builtin_prefetch(before->prev);
    const std::uint32_t last = before->count - 1;
    const std::uint32_t ahead = std::min<std::uint32_t>(before->count, kPrefetchDistance + 1);
    for (std::uint32_t i = 1; i < ahead; ++i) prefetch_entry(before->entry[last - i]);
  }
}

}  // namespace cascade::engine
