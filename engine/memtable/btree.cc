// See btree.h for the node layout, the invariants and the iterator contract.
#include "engine/memtable/btree.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <new>

namespace cascade::engine {
namespace {

// First index in [0, n) for which `before(i)` is false; `before` must be true on a prefix.
template <typename Pred>
std::uint32_t partition_point(std::uint32_t n, Pred before) {
  std::uint32_t lo = 0;
  while (n > 0) {
    std::uint32_t half = n / 2;
    if (before(lo + half)) {
      lo += half + 1;
      n -= half + 1;
    } else {
      n = half;
    }
  }
  return lo;
}

// Inserts `value` at `pos` of an array holding `count` elements (room for one more).
template <typename T>
void insert_at(T* array, std::uint32_t count, std::uint32_t pos, T value) {
  std::copy_backward(array + pos, array + count, array + count + 1);
  array[pos] = value;
}

// How many bytes `a` and `b` share at their start.
std::size_t shared_length(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      const std::uint64_t diff = x ^ y;
      return i + static_cast<std::size_t>(std::endian::native == std::endian::little
                                              ? std::countr_zero(diff)
                                              : std::countl_zero(diff)) / 8;
    }
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Inserts in a row that must move the same way before splits and shifts follow them
// (random inserts rarely make 4; measured fill for random keys is unchanged).
constexpr int kRunLength = 4;

}  // namespace

BTree::BTree(Arena& arena) : arena_(arena) {
  first_leaf_ = last_leaf_ = new_leaf();
  root_ = first_leaf_;
}

BTree::Leaf* BTree::new_leaf() {
  return new (arena_.allocate_aligned(sizeof(Leaf), alignof(Leaf))) Leaf;
}

BTree::Inner* BTree::new_inner() {
  return new (arena_.allocate_aligned(sizeof(Inner), alignof(Inner))) Inner;
}

// Where `user_key` falls against the bytes every key of `node` begins with: < 0 before all
// of the node's keys, > 0 after all of them, 0 when it begins with those bytes too.
template <typename Node>
int BTree::side_of(const Node& node, std::string_view user_key) {
  const std::size_t n = std::min<std::size_t>(node.common, user_key.size());
  if (n > 0) {
    if (int c = std::memcmp(user_key.data(), node.common_bytes, n); c != 0) return c;
  }
  return user_key.size() < node.common ? -1 : 0;  // a proper prefix of them sorts first
}

// Retakes `node`'s shared bytes from its first and last keys (sorted keys share what
// those two share). `prefixes_valid`: every prefix was taken at offset node.common, and
// at least one key that began with common_bytes is still in the node. Then, while the
// keys still share at least node.common bytes (so those are still common_bytes) and not
// kRefitGain more, nothing changes; otherwise every prefix is taken afresh, one read of
// each key.
template <typename Node>
void BTree::refit(Node& node, const char* const* keys, bool prefixes_valid) {
  std::size_t common = 0;
  std::string_view first;
  if (node.count > 0) {
    first = entry_user_key(keys[0]);
    common = std::min(kMaxCommon, shared_length(first, entry_user_key(keys[node.count - 1])));
  }
  if (prefixes_valid && common >= node.common && common < node.common + kRefitGain) return;
  node.common = static_cast<std::uint8_t>(common);
  if (common > 0) std::memcpy(node.common_bytes, first.data(), common);
  for (std::uint32_t i = 0; i < node.count; ++i) {
    node.prefix[i] = key_prefix(entry_user_key(keys[i]), common);
  }
}

// Child i holds separator[i-1] <= k < separator[i]: skip every separator <= key.
std::uint32_t BTree::child_index(const Inner& inner, const SearchKey& key) {
  if (int side = side_of(inner, key.user_key); side != 0) return side < 0 ? 0 : inner.count;
  const KeyPrefix pfx = key_prefix(key.user_key, inner.common);
  return partition_point(inner.count, [&](std::uint32_t i) {
    return compare_to_entry(key, pfx, inner.prefix[i], inner.separator[i]) >= 0;
  });
}

// The first entry >= key, or count.
std::uint32_t BTree::leaf_position(const Leaf& leaf, const SearchKey& key) {
  if (int side = side_of(leaf, key.user_key); side != 0) return side < 0 ? 0 : leaf.count;
  const KeyPrefix pfx = key_prefix(key.user_key, leaf.common);
  return partition_point(leaf.count, [&](std::uint32_t i) {
    return compare_to_entry(key, pfx, leaf.prefix[i], leaf.entry[i]) > 0;
  });
}

const BTree::Leaf* BTree::find_leaf(const SearchKey& key, std::uint32_t& pos) const {
  const void* node = root_;
  for (int level = height_; level > 0; --level) {
    auto* inner = static_cast<const Inner*>(node);
    node = inner->child[child_index(*inner, key)];
  }
  auto* leaf = static_cast<const Leaf*>(node);
  pos = leaf_position(*leaf, key);
  return leaf;
}

namespace {
// The lines a search of a node reads first: its header and prefix array (and, for a leaf,
// the entry array an insert shifts), from the node's start up to `bytes`.
void prefetch_lines(const void* node, std::size_t bytes) {
  const char* p = static_cast<const char*>(node);
  for (std::size_t at = 0; at < bytes; at += 64) __builtin_prefetch(p + at, 1);
}
}  // namespace

void BTree::prefetch(std::span<const SearchKey> keys, InsertHint* hints) const {
  const std::size_t n = std::min(keys.size(), kMaxPrefetch);
  const void* node[kMaxPrefetch];
  for (std::size_t i = 0; i < n; ++i) node[i] = root_;
  for (int level = height_; level > 0; --level) {
    const std::size_t bytes =
        level > 1 ? offsetof(Inner, separator) : offsetof(Leaf, entry);
    for (std::size_t i = 0; i < n; ++i) {
      auto* inner = static_cast<const Inner*>(node[i]);
      node[i] = inner->child[child_index(*inner, keys[i])];
      prefetch_lines(node[i], bytes);
    }
  }
  // An overwritten key ties on its prefix with its older version, whose entry the insert's
  // search then reads: fetch that entry too, once the leaves are in.
  for (std::size_t i = 0; i < n; ++i) {
    auto* leaf = static_cast<const Leaf*>(node[i]);
    if (hints != nullptr) hints[i] = {leaf, leaf->version};
    if (side_of(*leaf, keys[i].user_key) != 0) continue;
    const KeyPrefix pfx = key_prefix(keys[i].user_key, leaf->common);
    const std::uint32_t pos =
        partition_point(leaf->count, [&](std::uint32_t j) { return leaf->prefix[j] < pfx; });
    if (pos < leaf->count && leaf->prefix[pos] == pfx) __builtin_prefetch(leaf->entry[pos]);
  }
}

BTree::Leaf* BTree::descend(const SearchKey& key, Path& path) {
  void* node = root_;
  for (int level = height_ - 1; level >= 0; --level) {
    auto* inner = static_cast<Inner*>(node);
    std::uint32_t i = child_index(*inner, key);
    path.node[level] = inner;
    path.slot[level] = i;
    node = inner->child[i];
  }
  return static_cast<Leaf*>(node);
}

BTree::InsertHint BTree::insert(const char* entry, const InsertHint& hint) {
  // The leaf is the one the prefetch found and (same version) still covers the key.
  auto* leaf = static_cast<Leaf*>(const_cast<void*>(hint.leaf));
  if (leaf == nullptr || leaf->version != hint.version || leaf->count == kLeafCapacity) {
    insert(entry);
    return {};
  }
  SearchKey key = SearchKey::from_internal_key(entry_internal_key(entry));
  std::uint32_t pos = leaf_position(*leaf, key);
  assert(pos == leaf->count || entry_internal_key(leaf->entry[pos]) != entry_internal_key(entry));
  ++size_;
  ++leaf->version;
  note_insert(*leaf, pos);
  insert_into_leaf(leaf, pos, key, entry);
  return {leaf, leaf->version};
}

void BTree::insert(const char* entry) {
  SearchKey key = SearchKey::from_internal_key(entry_internal_key(entry));
  Path path;
  Leaf* leaf = descend(key, path);
  std::uint32_t pos = leaf_position(*leaf, key);
  assert(pos == leaf->count || entry_internal_key(leaf->entry[pos]) != entry_internal_key(entry));
  ++size_;
  ++leaf->version;
  note_insert(*leaf, pos);
  if (leaf->count == kLeafCapacity) {
    if (shift_to_prev(leaf, pos)) {
      insert_into_leaf(leaf, pos, key, entry);
      set_separator(boundary_before(path), leaf);
      return;
    }
    if (shift_to_next(leaf, pos)) {
      insert_into_leaf(leaf, pos, key, entry);
      set_separator(boundary_after(path), leaf->next);
      return;
    }
    add_to_parents(path, split_leaf(leaf, pos, key, entry));
    return;
  }
  insert_into_leaf(leaf, pos, key, entry);
}

void BTree::insert_into_leaf(Leaf* leaf, std::uint32_t pos, const SearchKey& key,
                             const char* entry) {
  const bool shares = side_of(*leaf, key.user_key) == 0;
  insert_at(leaf->prefix, leaf->count, pos, shares ? key_prefix(key.user_key, leaf->common) : 0);
  insert_at(leaf->entry, leaf->count, pos, entry);
  ++leaf->count;
  if (!shares) refit(*leaf, leaf->entry, false);
}

void BTree::insert_separator(Inner* inner, std::uint32_t slot, const Promoted& up) {
  const std::string_view user_key = entry_user_key(up.separator);
  const bool shares = side_of(*inner, user_key) == 0;
  insert_at(inner->prefix, inner->count, slot, shares ? key_prefix(user_key, inner->common) : 0);
  insert_at(inner->separator, inner->count, slot, up.separator);
  insert_at(inner->child, inner->count + 1, slot + 1, up.right);
  ++inner->count;
  if (!shares) refit(*inner, inner->separator, false);
}

// Inserts the right half of a split into the parents, splitting them as needed.
void BTree::add_to_parents(const Path& path, Promoted up) {
  for (int level = 0; level < height_; ++level) {
    Inner* inner = path.node[level];
    std::uint32_t slot = path.slot[level];
    if (inner->count < kInnerCapacity) {
      insert_separator(inner, slot, up);
      return;
    }
    up = split_inner(inner, slot, up);
  }
  grow_root(up);
}

// The separator between the path's leaf and its left neighbour sits in their lowest
// common ancestor: the lowest node on the path entered through a child other than the
// first. Symmetrically for the right neighbour.
BTree::SeparatorRef BTree::boundary_before(const Path& path) const {
  for (int level = 0; level < height_; ++level) {
    if (path.slot[level] > 0) return {path.node[level], path.slot[level] - 1};
  }
  assert(false && "the first leaf has no left neighbour");
  return {};
}

BTree::SeparatorRef BTree::boundary_after(const Path& path) const {
  for (int level = 0; level < height_; ++level) {
    if (path.slot[level] < path.node[level]->count) return {path.node[level], path.slot[level]};
  }
  assert(false && "the last leaf has no right neighbour");
  return {};
}

// Makes `first_of`'s first entry the separator in front of it.
void BTree::set_separator(SeparatorRef ref, const Leaf* first_of) {
  Inner& node = *ref.node;
  node.separator[ref.index] = first_of->entry[0];
  const std::string_view user_key = entry_user_key(first_of->entry[0]);
  if (side_of(node, user_key) == 0) {
    node.prefix[ref.index] = key_prefix(user_key, node.common);
  } else {
    refit(node, node.separator, false);
  }
}

// During a forward run, moves the entries before pos (already passed by the run) into the
// left neighbour's free slots, so the run fills that leaf instead of splitting this one.
bool BTree::shift_to_prev(Leaf* leaf, std::uint32_t& pos) {
  Leaf* prev = leaf->prev;
  if (leaf->run < kRunLength || prev == nullptr) return false;
  std::uint32_t n = std::min<std::uint32_t>(kLeafCapacity - prev->count, pos);
  if (n == 0) return false;
  std::copy(leaf->prefix, leaf->prefix + n, prev->prefix + prev->count);
  std::copy(leaf->entry, leaf->entry + n, prev->entry + prev->count);
  std::copy(leaf->prefix + n, leaf->prefix + leaf->count, leaf->prefix);
  std::copy(leaf->entry + n, leaf->entry + leaf->count, leaf->entry);
  prev->count += n;
  leaf->count -= n;
  ++prev->version;
  // The moved prefixes were taken at leaf->common; the leaf keeps a part of its keys.
  refit(*prev, prev->entry, prev->common == leaf->common);
  refit(*leaf, leaf->entry, true);
  pos -= n;
  leaf->last_insert = static_cast<std::uint16_t>(pos);
  return true;
}

// The mirror image for a backward run: entries from pos on move to the right neighbour.
bool BTree::shift_to_next(Leaf* leaf, std::uint32_t pos) {
  Leaf* next = leaf->next;
  if (leaf->run > -kRunLength || next == nullptr) return false;
  std::uint32_t n = std::min<std::uint32_t>(kLeafCapacity - next->count, leaf->count - pos);
  if (n == 0) return false;
  std::copy_backward(next->prefix, next->prefix + next->count, next->prefix + next->count + n);
  std::copy_backward(next->entry, next->entry + next->count, next->entry + next->count + n);
  std::copy(leaf->prefix + leaf->count - n, leaf->prefix + leaf->count, next->prefix);
  std::copy(leaf->entry + leaf->count - n, leaf->entry + leaf->count, next->entry);
  next->count += n;
  leaf->count -= n;
  ++next->version;
  refit(*next, next->entry, next->common == leaf->common);
  refit(*leaf, leaf->entry, true);
  return true;
}

void BTree::note_insert(Leaf& leaf, std::uint32_t pos) {
  constexpr int kMaxRun = 1000;
  if (pos > leaf.last_insert) {
    leaf.run = static_cast<std::int16_t>(leaf.run > 0 ? std::min(leaf.run + 1, kMaxRun) : 1);
  } else {
    leaf.run = static_cast<std::int16_t>(leaf.run < 0 ? std::max(leaf.run - 1, -kMaxRun) : -1);
  }
  leaf.last_insert = static_cast<std::uint16_t>(pos);
}

// How many of the kLeafCapacity + 1 entries (the new one at pos) the left leaf keeps;
// always in [1, kLeafCapacity].
std::uint32_t BTree::split_point(const Leaf& leaf, std::uint32_t pos) {
  if (leaf.run >= kRunLength) return std::min(pos + 1, kLeafCapacity);
  if (leaf.run <= -kRunLength) return std::max(pos, 1u);
  return (kLeafCapacity + 1) / 2;
}

// Splits a full leaf while inserting `entry` (whose key is `key`) at pos: see "Runs" in btree.h.
BTree::Promoted BTree::split_leaf(Leaf* leaf, std::uint32_t pos, const SearchKey& key,
                                  const char* entry) {
  constexpr std::uint32_t kAll = kLeafCapacity + 1;
  const bool shares = side_of(*leaf, key.user_key) == 0;
  KeyPrefix prefixes[kAll];
  const char* entries[kAll];
  std::copy(leaf->prefix, leaf->prefix + kLeafCapacity, prefixes);
  std::copy(leaf->entry, leaf->entry + kLeafCapacity, entries);
  insert_at(prefixes, kLeafCapacity, pos, shares ? key_prefix(key.user_key, leaf->common) : 0);
  insert_at(entries, kLeafCapacity, pos, entry);

  std::uint32_t keep = split_point(*leaf, pos);
  Leaf* right = new_leaf();
  right->common = leaf->common;
  std::memcpy(right->common_bytes, leaf->common_bytes, leaf->common);
  std::copy(prefixes, prefixes + keep, leaf->prefix);
  std::copy(entries, entries + keep, leaf->entry);
  leaf->count = keep;
  std::copy(prefixes + keep, prefixes + kAll, right->prefix);
  std::copy(entries + keep, entries + kAll, right->entry);
  right->count = kAll - keep;
  // Each half shares at least what the whole did, often more.
  refit(*leaf, leaf->entry, shares);
  refit(*right, right->entry, shares);
  // The streak follows the new entry; the other leaf starts afresh.
  Leaf* with_new = pos < keep ? leaf : right;
  Leaf* without_new = pos < keep ? right : leaf;
  with_new->last_insert = static_cast<std::uint16_t>(pos < keep ? pos : pos - keep);
  with_new->run = leaf->run;
  without_new->last_insert = 0;
  without_new->run = 0;

  right->prev = leaf;
  right->next = leaf->next;
  if (leaf->next != nullptr) {
    leaf->next->prev = right;
  } else {
    last_leaf_ = right;
  }
  leaf->next = right;
  return {right->entry[0], right};
}

// Splits a full inner node while inserting `up` (separator at slot, child at slot + 1).
// Of the kInnerCapacity + 1 separators the middle one moves up to the parent.
BTree::Promoted BTree::split_inner(Inner* node, std::uint32_t slot, const Promoted& up) {
  constexpr std::uint32_t kAll = kInnerCapacity + 1;
  const std::string_view user_key = entry_user_key(up.separator);
  const bool shares = side_of(*node, user_key) == 0;
  KeyPrefix prefixes[kAll];
  const char* separators[kAll];
  void* children[kAll + 1];
  std::copy(node->prefix, node->prefix + kInnerCapacity, prefixes);
  std::copy(node->separator, node->separator + kInnerCapacity, separators);
  std::copy(node->child, node->child + kInnerCapacity + 1, children);
  insert_at(prefixes, kInnerCapacity, slot, shares ? key_prefix(user_key, node->common) : 0);
  insert_at(separators, kInnerCapacity, slot, up.separator);
  insert_at(children, kInnerCapacity + 1, slot + 1, up.right);

  // Left keeps separators [0, mid) and children [0, mid]; separator mid moves up.
  std::uint32_t mid = kAll / 2;
  Inner* right = new_inner();
  right->common = node->common;
  std::memcpy(right->common_bytes, node->common_bytes, node->common);
  std::copy(prefixes, prefixes + mid, node->prefix);
  std::copy(separators, separators + mid, node->separator);
  std::copy(children, children + mid + 1, node->child);
  node->count = mid;
  std::copy(prefixes + mid + 1, prefixes + kAll, right->prefix);
  std::copy(separators + mid + 1, separators + kAll, right->separator);
  std::copy(children + mid + 1, children + kAll + 1, right->child);
  right->count = kAll - mid - 1;
  refit(*node, node->separator, shares);
  refit(*right, right->separator, shares);
  return {separators[mid], right};
}

void BTree::grow_root(const Promoted& up) {
  assert(height_ + 1 < kMaxHeight);
  Inner* root = new_inner();
  root->count = 1;
  root->separator[0] = up.separator;
  root->child[0] = root_;
  root->child[1] = up.right;
  refit(*root, root->separator, false);
  root_ = root;
  ++height_;
}

void BTree::Iterator::seek(const SearchKey& key) {
  std::uint32_t pos;
  const Leaf* leaf = tree_->find_leaf(key, pos);
  if (pos < leaf->count) {
    set(leaf, pos);
  } else {
    set(leaf->next, 0);  // every key in this leaf is smaller: the answer starts the next one
  }
}

void BTree::Iterator::seek_to_first() {
  const Leaf* first = tree_->first_leaf_;
  set(first->count == 0 ? nullptr : first, 0);
}

void BTree::Iterator::seek_to_last() {
  const Leaf* last = tree_->last_leaf_;
  set(last->count == 0 ? nullptr : last, last->count == 0 ? 0 : last->count - 1);
}

// The leaf changed under us (an insert shifted it or a split moved half of it away):
// find our entry again. Entries never leave the tree, so the search lands exactly on it.
void BTree::Iterator::resync() {
  std::uint32_t pos;
  const Leaf* leaf = tree_->find_leaf(SearchKey::from_internal_key(entry_internal_key(entry_)), pos);
  assert(pos < leaf->count && leaf->entry[pos] == entry_);
  set(leaf, pos);
}

}  // namespace cascade::engine
