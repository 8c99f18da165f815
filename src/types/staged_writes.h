// StagedWrites: one shard's engine seen through the writes a command (or a MULTI/EXEC
// transaction) has made but not yet committed.
//
// A command on a collection writes many engine entries (members, then the metadata record)
// and may read what it wrote earlier in the same command: HSET k f 1 f 2, SMOVE k k m,
// LMOVE over one list, ZUNIONSTORE into one of its sources. Inside MULTI/EXEC, a later
// command reads an earlier one's writes. So writes are staged here: get() and Cursor see
// staged writes over the engine, and commit() turns them into one engine batch, so the
// command (or the transaction's part on this shard) is atomic on disk.
//
// The staged state is a map from engine key to its final value (nullopt: deleted): writing
// one key twice keeps the last write, and the batch holds each key once, in key order.
//
// Consistency: reads see the engine's newest data, unacknowledged writes included
// (engine::ReadOptions::unacknowledged): the caller holds the locks of every Redis key it
// reads or writes here, so no other writer changes those keys' entries between the reads
// and commit(), and it builds on the writes of the keys' previous lock holders even while
// their WAL writes are in flight. What it read may reach a client only once observed()
// is visible (engine::DB::wait_visible; its own commit, coming later in the log, implies
// it). A plain reader (no locks: a read-only command) passes Reads::kVisible instead and
// sees what readers see.
//
// Calling rules: the shard's fibers; get() and cursor steps may suspend on engine IO.
// A Cursor stays usable across put()/del() (the map's iterators survive insertions), but
// whether it shows an entry staged after it was positioned depends on where it is: stage
// writes after a scan, or re-seek.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/db.h"
#include "src/runtime/result.h"

namespace cascade::types {

// The first key after every key starting with `prefix`, the upper bound of a Cursor over
// them (`prefix` never empty nor all 0xff here: engine keys start with a database id
// below 0xFFFFFFFF).
inline std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<std::uint8_t>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<std::uint8_t>(prefix.back()) + 1);
  return prefix;
}

class StagedWrites {
 public:
  enum class Reads : std::uint8_t { kUnacknowledged, kVisible };
  explicit StagedWrites(engine::DB& db, Reads reads = Reads::kUnacknowledged)
      : db_(db), unacknowledged_(reads == Reads::kUnacknowledged) {}
  StagedWrites(const StagedWrites&) = delete;
  StagedWrites& operator=(const StagedWrites&) = delete;

  engine::DB& engine() { return db_; }
  // The client whose MULTI/EXEC stages here (0: a single command's writes): its own
  // watches are not touched by these writes (WatchRegistry::touch).
  void set_exec_client(std::uint64_t client) { exec_client_ = client; }
  std::uint64_t exec_client() const { return exec_client_; }

  // The value of `key`: the staged write if there is one, else the engine's.
  Result<std::optional<std::string>> get(std::string_view key);
  void put(std::string_view key, std::string_view value);
  void del(std::string_view key);

  // The newest engine sequence any read here may have seen (0: none beyond visible data).
  engine::SequenceNumber observed() const { return observed_; }

  bool empty() const { return staged_.empty(); }
  std::size_t size() const { return staged_.size(); }
  // Appends every staged write to `batch`, in key order.
  void append_to(engine::WriteBatch& batch) const;
  // Writes everything staged as one engine batch and forgets it (nothing staged: no write).
  Status commit(bool sync);
  void clear() { staged_.clear(); }

  // A merged, bidirectional scan of [lower, upper) (upper empty: unbounded): the engine's
  // entries with the staged writes applied (staged deletions hide entries).
  class Cursor {
   public:
    Cursor(StagedWrites& owner, std::string lower, std::string upper);
    bool valid() const { return valid_; }
    Status status() const { return status_; }
    void seek_to_first();
    void seek_to_last();
    // A key passed to seek/seek_for_prev must not view this cursor's own key() (copy it).
    void seek(std::string_view key);             // first key >= key
    void seek_for_prev(std::string_view key);    // last key <= key
    void next();                                 // requires valid()
    void prev();                                 // requires valid()
    // Views valid until the cursor moves: into the engine iterator's entry, not copied (a
    // whole-collection scan reads millions), or for a staged entry its key in the staged
    // map and a copy of its value (so a put or del of the current key leaves it intact).
    std::string_view key() const { return key_; }
    std::string_view value() const { return value_; }
    // Deleted engine keys the cursor stepped over (engine::DBIterator::tombstones_passed).
    std::uint64_t tombstones_passed() const { return engine_ ? engine_->tombstones_passed() : 0; }

   private:
    using Map = std::map<std::string, std::optional<std::string>, std::less<>>;
    // Positions both sources from their current positions in the cursor's direction and
    // settles on the next visible entry.
    void settle();
    bool in_range(std::string_view key) const;

    StagedWrites& owner_;
    std::string lower_, upper_;
    std::unique_ptr<engine::DBIterator> engine_;
    Map::iterator staged_;   // forward: the first staged key not yet passed; backward: see .cc
    bool staged_valid_ = false;
    bool forward_ = true;
    bool valid_ = false;
    Status status_;
    std::string_view key_, value_;
    std::string staged_value_;
  };

 private:
  friend class Cursor;
  engine::ReadOptions read_options();

  engine::DB& db_;
  const bool unacknowledged_;
  engine::SequenceNumber observed_ = 0;
  std::uint64_t exec_client_ = 0;
  std::map<std::string, std::optional<std::string>, std::less<>> staged_;
};

}  // namespace cascade::types
