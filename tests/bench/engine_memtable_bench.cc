// bench-engine-memtable: the measurement behind the memtable's index (memtable.h).
//
// Builds each candidate index over the same arena entries (memtable_entry.h) and times, per
// operation: insert (entry copy into the arena + index insert), get (a seek to the newest
// version of an existing key, in shuffled order) and a full forward scan. Candidates:
//   btree          engine/memtable/btree.h, the memtable's index
//   skiplist       a plain single-threaded skiplist (branching 4, up to 12 levels) whose
//                  nodes point to their entry, as a classic memtable's do
//   skiplist+pfx   the same with the 8-byte key prefix copied into each node, to tell the
//                  B+tree's layout apart from its prefix trick
//   memtable       the MemTable API itself (B+tree plus the get/iterator wrappers)
//   memtable x16   the same, inserting with add_all 16 records at a time, as a write batch
//                  of 16 keys (a pipelined client's run of SETs) does: paths prefetched
// Usage: bench-engine-memtable [keys=1000000] [key_bytes=16] [value_bytes=64] [runs=3]
//                              [only=INDEX|all] [shared_prefix=0]
// Keys are random bytes (seed CASCADE_SEED or 1) after `shared_prefix` bytes common to all
// of them (the server's keys start with a database id and a key-space byte, and
// benchmark keys such as "key:000000123456" share more); "ascending" rows insert them
// sorted.
// A benchmark, not a test: it asserts nothing about time.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine/memtable/arena.h"
#include "engine/memtable/btree.h"
#include "engine/memtable/memtable.h"
#include "engine/memtable/memtable_entry.h"

using namespace cascade::engine;

namespace {

template <bool kNodePrefix>
class SkipList {
  struct Node {
    KeyPrefix prefix;  // unused unless kNodePrefix
    const char* entry;
    Node* next[1];     // really `height` pointers
  };

 public:
  static constexpr int kMaxHeight = 12;

  explicit SkipList(Arena& arena) : arena_(arena), head_(new_node(nullptr, 0, kMaxHeight)) {}

  void insert(const char* entry) {
    SearchKey key = SearchKey::from_internal_key(entry_internal_key(entry));
    const KeyPrefix pfx = key_prefix(key.user_key);
    Node* before[kMaxHeight];
    Node* x = head_;
    for (int level = height_ - 1; level >= 0; --level) {
      while (x->next[level] != nullptr && is_after(key, pfx, x->next[level])) x = x->next[level];
      before[level] = x;
    }
    int height = random_height();
    for (; height_ < height; ++height_) before[height_] = head_;
    Node* node = new_node(entry, pfx, height);
    for (int level = 0; level < height; ++level) {
      node->next[level] = before[level]->next[level];
      before[level]->next[level] = node;
    }
  }

  // First node >= key, or nullptr.
  const Node* seek(const SearchKey& key) const {
    const KeyPrefix pfx = key_prefix(key.user_key);
    Node* x = head_;
    for (int level = height_ - 1; level >= 0; --level) {
      while (x->next[level] != nullptr && is_after(key, pfx, x->next[level])) x = x->next[level];
    }
    return x->next[0];
  }
  const Node* first() const { return head_->next[0]; }
  static const Node* next(const Node* n) { return n->next[0]; }
  static const char* entry(const Node* n) { return n->entry; }

 private:
  static bool is_after(const SearchKey& key, KeyPrefix key_pfx, const Node* n) {
    KeyPrefix prefix = kNodePrefix ? n->prefix : key_prefix(entry_user_key(n->entry));
    return compare_to_entry(key, key_pfx, prefix, n->entry) > 0;
  }

  Node* new_node(const char* entry, KeyPrefix prefix, int height) {
    std::size_t bytes = sizeof(Node) + sizeof(Node*) * (height - 1);
    auto* n = reinterpret_cast<Node*>(arena_.allocate_aligned(bytes, alignof(Node)));
    n->prefix = prefix;
    n->entry = entry;
    std::fill(n->next, n->next + height, nullptr);
    return n;
  }

  int random_height() {
    int h = 1;
    while (h < kMaxHeight && (next_random() & 3) == 0) ++h;
    return h;
  }
  std::uint64_t next_random() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  Arena& arena_;
  Node* head_;
  int height_ = 1;
  std::uint64_t rng_ = 0x9e3779b97f4a7c15ull;
};

struct Workload {
  std::vector<std::string> keys;        // insertion order
  std::vector<std::uint32_t> get_order;  // indexes into keys, shuffled
  std::string value;
};

struct Figures {
  double insert_ns = 0, get_ns = 0, scan_ns = 0, scan_ms = 0;
  std::size_t memory = 0;
};

using Clock = std::chrono::steady_clock;
double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

std::uint64_t g_sink = 0;  // keeps results observable so nothing is optimized away

void check_found(std::string_view found_ikey, const std::string& key) {
  if (extract_user_key(found_ikey) != key) {
    std::fprintf(stderr, "lookup returned the wrong key\n");
    std::exit(1);
  }
}

Figures run_btree(const Workload& w) {
  Figures f;
  Arena arena;
  BTree tree(arena);
  auto start = Clock::now();
  SequenceNumber seq = 0;
  for (const std::string& k : w.keys) tree.insert(make_entry(arena, k, ++seq, ValueType::kValue, w.value));
  f.insert_ns = ns_since(start) / w.keys.size();

  BTree::Iterator it(tree);
  start = Clock::now();
  for (std::uint32_t i : w.get_order) {
    it.seek(SearchKey::from_parts(w.keys[i], kMaxSequenceNumber, kValueTypeForSeek));
    check_found(entry_internal_key(it.entry()), w.keys[i]);
    g_sink += entry_value(it.entry()).size();
  }
  f.get_ns = ns_since(start) / w.keys.size();

  start = Clock::now();
  for (it.seek_to_first(); it.valid(); it.next()) g_sink += entry_value(it.entry()).size();
  f.scan_ns = ns_since(start);
  f.memory = arena.memory_usage();
  return f;
}

template <bool kNodePrefix>
Figures run_skiplist(const Workload& w) {
  Figures f;
  Arena arena;
  SkipList<kNodePrefix> list(arena);
  auto start = Clock::now();
  SequenceNumber seq = 0;
  for (const std::string& k : w.keys) list.insert(make_entry(arena, k, ++seq, ValueType::kValue, w.value));
  f.insert_ns = ns_since(start) / w.keys.size();

  start = Clock::now();
  for (std::uint32_t i : w.get_order) {
    auto* n = list.seek(SearchKey::from_parts(w.keys[i], kMaxSequenceNumber, kValueTypeForSeek));
    check_found(entry_internal_key(list.entry(n)), w.keys[i]);
    g_sink += entry_value(list.entry(n)).size();
  }
  f.get_ns = ns_since(start) / w.keys.size();

  start = Clock::now();
  for (auto* n = list.first(); n != nullptr; n = list.next(n)) g_sink += entry_value(list.entry(n)).size();
  f.scan_ns = ns_since(start);
  f.memory = arena.memory_usage();
  return f;
}

template <std::size_t kGroup>
Figures run_memtable(const Workload& w) {
  Figures f;
  MemTable mem;
  auto start = Clock::now();
  SequenceNumber seq = 0;
  if constexpr (kGroup == 1) {
    for (const std::string& k : w.keys) mem.add(++seq, ValueType::kValue, k, w.value);
  } else {
    WriteBatchRecord group[kGroup];
    std::size_t n = 0;
    for (const std::string& k : w.keys) {
      group[n++] = WriteBatchRecord{++seq, ValueType::kValue, k, w.value};
      if (n == kGroup) {
        mem.add_all(std::span<const WriteBatchRecord>(group, n));
        n = 0;
      }
    }
    mem.add_all(std::span<const WriteBatchRecord>(group, n));
  }
  f.insert_ns = ns_since(start) / w.keys.size();

  start = Clock::now();
  for (std::uint32_t i : w.get_order) {
    LookupResult r = mem.get(w.keys[i], kMaxSequenceNumber);
    if (r.state != LookupState::kFound) std::exit(1);
    g_sink += r.value.size();
  }
  f.get_ns = ns_since(start) / w.keys.size();

  MemTable::Iterator it(mem);
  start = Clock::now();
  for (it.seek_to_first(); it.valid(); it.next()) g_sink += it.value().size();
  f.scan_ns = ns_since(start);
  f.memory = mem.approximate_memory_usage();
  return f;
}

// The median of `runs` runs, field by field.
template <typename Run>
Figures median_of(int runs, const Workload& w, Run run) {
  std::vector<Figures> all;
  for (int i = 0; i < runs; ++i) all.push_back(run(w));
  auto median = [&](double Figures::*field) {
    std::vector<double> v;
    for (const Figures& f : all) v.push_back(f.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  Figures f;
  f.insert_ns = median(&Figures::insert_ns);
  f.get_ns = median(&Figures::get_ns);
  f.scan_ns = median(&Figures::scan_ns);
  f.memory = all.front().memory;
  return f;
}

void print_row(const char* order, const char* name, const Figures& f, std::size_t n) {
  std::printf("%-10s %-13s %10.0f %10.0f %12.1f %10.1f %11.1f\n", order, name, f.insert_ns,
              f.get_ns, f.scan_ns / n, f.scan_ns / 1e6, f.memory / 1048576.0);
}

void run_all(const char* order, const Workload& w, int runs, std::string_view only) {
  std::size_t n = w.keys.size();
  auto run = [&](const char* name, auto fn) {
    if (only.empty() || only == name) print_row(order, name, median_of(runs, w, fn), n);
  };
  run("btree", run_btree);
  run("skiplist", run_skiplist<false>);
  run("skiplist+pfx", run_skiplist<true>);
  run("memtable", run_memtable<1>);
  run("memtable x16", run_memtable<16>);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  std::size_t key_bytes = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 16;
  std::size_t value_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 64;
  int runs = argc > 4 ? std::atoi(argv[4]) : 3;
  std::string_view only = argc > 5 ? argv[5] : "";
  if (only == "all") only = "";
  std::size_t shared_prefix = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 0;
  const char* seed_env = std::getenv("CASCADE_SEED");
  std::uint64_t seed = seed_env != nullptr ? std::strtoull(seed_env, nullptr, 0) : 1;

  std::mt19937_64 rng(seed);
  Workload w;
  w.value.assign(value_bytes, 'v');
  w.keys.resize(count);
  for (std::string& k : w.keys) {
    k.assign(shared_prefix, 'p');
    for (std::size_t i = 0; i < key_bytes; ++i) k.push_back(static_cast<char>(rng()));
  }
  std::sort(w.keys.begin(), w.keys.end());
  w.keys.erase(std::unique(w.keys.begin(), w.keys.end()), w.keys.end());
  w.get_order.resize(w.keys.size());
  for (std::uint32_t i = 0; i < w.get_order.size(); ++i) w.get_order[i] = i;
  std::shuffle(w.get_order.begin(), w.get_order.end(), rng);

  std::printf("%zu keys of %zu + %zu bytes, %zu-byte values, median of %d runs, seed %llu\n",
              w.keys.size(), shared_prefix, key_bytes, value_bytes, runs,
              static_cast<unsigned long long>(seed));
  std::printf("%-10s %-13s %10s %10s %12s %10s %11s\n", "order", "index", "insert ns",
              "get ns", "scan ns/entry", "scan ms", "memory MiB");
  std::vector<std::string> sorted = w.keys;
  std::shuffle(w.keys.begin(), w.keys.end(), rng);
  run_all("random", w, runs, only);
  w.keys = std::move(sorted);
  run_all("ascending", w, runs, only);
  std::printf("(sink %llu)\n", static_cast<unsigned long long>(g_sink));
  return 0;
}
