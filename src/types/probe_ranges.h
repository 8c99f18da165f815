// ProbeRanges: what MemberSampler (member_sample.h) learns about a collection's key space,
// kept by one shard's keyspace between commands: the range its probes are drawn from, and
// the stretches of it known to hold no member.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::types {

// Stretches of one collection's member suffixes known to hold no member: [start, end),
// where `end` was a member when the stretch was seen. A set that SPOP is emptying keeps a
// tombstone for every popped member until compaction, and a probe's seek steps over every
// tombstone between where it lands and the next live member. Pops widen the stretches that
// probes land in (each pops the member after one), so without this record the walks grow
// to hundreds of tombstones per pop (290 on average over emptying 63,000 members, most of
// SPOP's time). With it, a probe falling into a known stretch seeks straight to its end
// and walks only the tombstones left since.
//
// A stretch may go out of date when a member is added into it later: probes then skip
// that member, which tilts the draw but never yields a non-member (the seek still reads
// the collection). ProbeRanges forgets a collection's stretches once it has grown, and
// every kStretchReuses draws.
class EmptyStretches {
 public:
  // Memory bound: past it every stretch is forgotten and learnt again (a single stretch
  // costing more is not kept at all).
  static constexpr std::size_t kMaxBytes = 64 << 10;

  struct Stretch {
    std::string start, end;
    bool to_end = false;  // no member lies at or past `start` (`end` is empty)
  };
  // The stretch holding `probe` (start <= probe < end), if one does.
  std::optional<Stretch> holding(std::string_view probe) const;
  // Records that no member lies in [start, end), merged with every stretch it overlaps or
  // touches. Nothing when start >= end.
  void add(std::string_view start, std::string_view end);
  // Records that no member lies at or past `start`.
  void add_to_end(std::string_view start);

  std::size_t size() const { return by_start_.size() + (tail_ ? 1 : 0); }
  std::size_t bytes() const { return bytes_; }

 private:
  // A map node's own cost, counted with its strings' bytes.
  static constexpr std::size_t kNodeBytes = 96;
  static std::size_t cost(const std::string& start, const std::string& end) {
    return kNodeBytes + start.size() + end.size();
  }

  // Takes into [start, end) the stretch before it that reaches it and those starting in it.
  void absorb(std::string& start, std::string& end);
  // Forgets everything when `added` more bytes would pass kMaxBytes.
  void make_room(std::size_t added);

  // start -> end: disjoint, none touching another, all before tail_.
  std::map<std::string, std::string, std::less<>> by_start_;
  std::optional<std::string> tail_;  // the start of the stretch past every member
  std::size_t bytes_ = 0;
};

// Per collection version (its member-key prefix): the probe range (first and last member)
// and the empty stretches.
//
// The range. Finding it costs a walk in from each end of the collection, and in a set that
// SPOP is emptying each walk passes the tombstones of every member popped at that end
// since the last compaction: a third of SPOP's time on a set of 30,000 being emptied. A
// kept range may be out of date: its ends popped since (the probes still land on live
// members, wrapping to the first past the end, so this only tilts the draw a little), or
// members added outside it, which the probes would rarely reach. So:
//   - once the collection has grown since its last draw (or since the pops that followed
//     it, removed()), the range and the stretches are found afresh from the collection's
//     ends;
//   - every kReuses draws the range is refreshed from its kept ends inward (no member was
//     added since, the size says, so none lies outside them), walking only what was
//     popped at the ends since;
//   - every kStretchReuses draws both are found afresh anyway: a member added and another
//     removed between two draws leave the size as it was;
//   - a distinct draw that cannot find enough members through the record (it hid them)
//     forgets it and reads the collection instead (MemberSampler).
// At most kCapacity collections are kept, the least recently used replaced first.
class ProbeRanges {
 public:
  static constexpr std::uint32_t kReuses = 32;
  static constexpr std::uint32_t kStretchReuses = 8192;
  static constexpr std::size_t kCapacity = 64;

  struct Range {
    std::string first, last;
  };
  struct Kept {
    std::optional<Range> range;  // nothing: find it from the collection's ends, then keep()
    bool refresh = false;        // with a range: find it again from these ends inward
    // An earlier whole read of this version found it sparse (many removed members among
    // few live ones; MemberSampler::kSparseTombstones), and it has not grown since.
    bool sparse = false;
    // Null when nothing is kept. Shared: the entry may be replaced while a draw that holds
    // it suspends. Also the record's identity: a reset or replaced record has new ones.
    std::shared_ptr<EmptyStretches> empty;
  };
  // Who may change the record. Only a draw that holds the collection's key lock and reads
  // its newest state (SPOP): a plain reader reads the acknowledged state, which can lag a
  // write in flight, and what it learnt (a stretch empty in its view, a size from before
  // the write) would hide that write's members from later draws. Lock holders of one
  // collection never overlap, so the record's changes come from one view at a time.
  //
  // What is kept of the collection whose member keys start with `prefix` (the prefix names
  // the collection's version) and that now has `size` members; counts as one draw. For a
  // lock holder.
  Kept find(std::string_view prefix, std::uint64_t size);
  // For a plain reader: what is kept, if anything is and was kept at `size` members (the
  // reader's view then most likely is the one it was learnt in). Changes nothing.
  std::optional<Kept> peek(std::string_view prefix, std::uint64_t size) const;
  // Whether an earlier read found the collection sparse (Kept::sparse) and it has not grown
  // since. Changes nothing.
  bool known_sparse(std::string_view prefix, std::uint64_t size) const;
  // The updates of a lock holder, each applied only if the record is still the one its
  // find() returned (`as_of`): not reset or replaced since.
  //   keep: the range found for that collection;
  //   mark_sparse: a whole read of it gave up on its removed members;
  //   removed: the draw removes members (SPOP), leaving `size`, so a later draw at a
  //   greater size knows that members were added since.
  void keep(std::string_view prefix, const Kept& as_of, Range range);
  void mark_sparse(std::string_view prefix, const Kept& as_of);
  void removed(std::string_view prefix, const Kept& as_of, std::uint64_t size);
  // Drops what is kept of that collection (it proved out of date).
  void forget(std::string_view prefix);

 private:
  struct Entry {
    std::string prefix;
    std::optional<Range> range;
    std::shared_ptr<EmptyStretches> empty;
    std::uint64_t size = 0;  // at the last draw
    bool sparse = false;
    std::uint32_t uses = 0;  // draws since the range was kept
    std::uint32_t stretch_uses = 0;  // draws since the stretches were started
    std::uint64_t last_use = 0;
  };
  Entry& entry(std::string_view prefix);
  const Entry* lookup(std::string_view prefix) const;
  // The entry of `prefix` if `as_of` came from it as it is now.
  Entry* current(std::string_view prefix, const Kept& as_of);

  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
};

}  // namespace cascade::types
