// Random members of one collection (SRANDMEMBER, SPOP, HRANDFIELD, later ZRANDMEMBER)
// without reading the collection whole when the answer is small.
//
// A collection is one sorted key range (collection.h), with no index by position, so a
// random member is found by a random probe: a suffix drawn between the first and the last
// member's suffix, then a seek to the first member at or after it (wrapping to the first
// member past the end). The probe's bytes follow the first and last suffixes: their common
// prefix, then a byte between theirs where they differ, then a tail at least as long as
// theirs (up to 8 bytes longer, 32 at most) drawn from the range of byte values the two use
// past that point (so members like "user:1234" spread over their digits rather than all
// landing after "user:"). A probe landing on a member that does not share its split byte
// fell into an empty stretch of key space and is redrawn (up to 8 times), so a member
// after such a stretch is not drawn far more often than the others. With the shard's
// ProbeRanges, a probe falling into a stretch known to hold no member (EmptyStretches,
// kept from earlier landings that passed many removed members) seeks straight to the
// stretch's end: the member the seek would reach anyway, unless one was added into the
// stretch since.
//
// The distribution, stated plainly:
//   - exactly uniform when the collection has at most kExactLimit members, when a draw
//     with repeats asks for at least as many members as there are, or when a distinct draw
//     asks for at least a quarter of them: those paths read every member, which costs at
//     most kExactLimit entries or a few times the reply (a distinct draw keeps only the
//     chosen members in memory);
//   - except a small collection among many removed members (a set SPOP is emptying, say):
//     the read of every member would step over every removed one still in the engine
//     (each pop leaves a tombstone until compaction), so the read gives up once it has
//     passed kSparseTombstones of them, and a draw that probes can serve (fewer members
//     wanted than there are, at most half of them for a distinct draw, and at least
//     kMinProbedSize members) goes by probes, each of which crosses one gap between live
//     members, not the whole range;
//   - larger ones, with small counts, by probes: random, but not uniform. A member is
//     drawn with the probability that a probe lands in the gap of key space before it, so
//     members after wide gaps come up more often, and a member whose predecessor's gap
//     holds no possible probe may never be drawn by draw_with_repeats. draw_distinct still
//     returns `count` distinct members: a probe landing on one already drawn walks on to
//     the next one not yet drawn.
// Redis promises no uniformity either (its own sampling is biased for sparse tables); what
// cascade keeps of its contract is membership, the count, and distinctness for distinct
// draws.
//
// Calling rules: the collection's shard; the caller holds what it needs (CollectionRead
// for reads, the key's lock for SPOP). Engine reads may suspend.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/random.h"
#include "src/runtime/result.h"
#include "src/types/collection.h"
#include "src/types/probe_ranges.h"

namespace cascade::types {

struct SampledMember {
  std::string suffix;  // the member (a hash's field)
  std::string value;   // the entry's value (a hash field's value; empty for a set)
};

class MemberSampler {
 public:
  // Collections this small are read whole and sampled exactly, unless sparse.
  static constexpr std::uint64_t kExactLimit = 256;
  // Removed members a whole read of a small collection passes before it gives up for probes.
  static constexpr std::uint64_t kSparseTombstones = 256;
  // Below this size the read goes on whatever it passes: a draw by probes walks one gap
  // for each end of the range and one per probe, each about (removed / size) removed
  // members, which is no cheaper than one whole read for a handful of members. Except a
  // collection the shard's ProbeRanges already knows as sparse (a read gave up on it at a
  // larger size, and it has not grown since): its draws skip the read at any size, since
  // the kept range and empty stretches spare the probes those walks.
  static constexpr std::uint64_t kMinProbedSize = 16;

  // Whether this sampler may change what ProbeRanges keeps: only one whose caller holds the
  // collection's key lock and reads its newest state (see ProbeRanges::find).
  enum class RangesUse { kUpdate, kLookOnly };

  // `collection` exists (size > 0); `seed` drives every draw; `ranges`, when given, keeps
  // the probes' range between samplers (the shard's, Keyspace::probe_ranges).
  MemberSampler(Collection& collection, std::uint64_t seed, ProbeRanges* ranges = nullptr,
                RangesUse use = RangesUse::kUpdate)
      : collection_(collection), rng_(seed), ranges_(ranges), updates_(use == RangesUse::kUpdate) {}

  // After the caller removed drawn members (SPOP), leaving `size`: tells ProbeRanges, if
  // this sampler looked the collection up there.
  void popped(std::uint64_t size);

  // `count` members, each drawn on its own: repeats are possible.
  Status draw_with_repeats(std::uint64_t count, std::vector<SampledMember>& out);
  // min(count, size) distinct members, in no particular order.
  Status draw_distinct(std::uint64_t count, std::vector<SampledMember>& out);

  // Removed members this sampler's reads stepped over (for tests and measurements).
  std::uint64_t tombstones_passed() const { return tombstones_passed_; }

 private:
  // Every member into `out`; or, with `give_up_when_sparse`, false (and `out` partial)
  // once the read has passed more than kSparseTombstones removed members.
  Result<bool> read_all(std::vector<SampledMember>& out, bool give_up_when_sparse);
  // Knuth's selection sampling: one pass, `count` of the members, each subset equally
  // likely, memory for `count` only.
  Status select_in_one_pass(std::uint64_t count, std::vector<SampledMember>& out);
  // The probe path of draw_distinct: count < size. False when the probes reached fewer
  // distinct members than `count`.
  Result<bool> draw_distinct_by_probes(StagedWrites::Cursor& cursor, std::uint64_t count,
                                       std::vector<SampledMember>& out);
  // What the shard keeps of this collection (looked up once per sampler; empty without
  // ProbeRanges).
  ProbeRanges::Kept& kept();
  // Whether a draw that probes can serve skips the whole read of a small collection.
  bool probe_instead_of_reading(bool probes_can_serve);
  // Whether that read gives up once it has passed kSparseTombstones removed members.
  bool give_up_when_sparse(bool probes_can_serve) const;
  // Reads the first and last suffixes the probes are drawn between.
  Status prepare_probes(StagedWrites::Cursor& cursor);
  std::string random_probe();
  // Positions `cursor` on the first member at or after `from`, through the kept empty
  // stretches, and keeps what its walk found empty. False when no member is at or after
  // `from` (or the read failed): the cursor is then not to be used.
  bool seek_member(StagedWrites::Cursor& cursor, std::string_view from);
  // Positions `cursor`, past the last member, on the first one.
  void wrap(StagedWrites::Cursor& cursor);
  // Positions `cursor` on the member a fresh probe lands on.
  void land(StagedWrites::Cursor& cursor);
  std::uint64_t uniform(std::uint64_t low, std::uint64_t high) {  // inclusive
    return std::uniform_int_distribution<std::uint64_t>(low, high)(rng_);
  }

  Collection& collection_;
  runtime::SplitMix64 rng_;
  ProbeRanges* ranges_;
  bool updates_;
  std::uint64_t tombstones_passed_ = 0;
  std::optional<ProbeRanges::Kept> kept_;
  std::string first_, last_;
  std::size_t split_ = 0;  // length of the common prefix of first_ and last_
  std::uint8_t tail_low_ = 0, tail_high_ = 0xff;
  static constexpr std::size_t kMaxTail = 32;
  static constexpr int kProbeAttempts = 8;
  // Tombstones a landing passes before its stretch is kept (EmptyStretches): fewer cost
  // little to walk again, and a stretch per short gap would fill the record.
  static constexpr std::uint64_t kStretchAfter = 8;
  std::size_t tail_min_ = 0, tail_max_ = 0;  // the probe's length after the split byte
};

}  // namespace cascade::types
