// ProbeRanges: the probe ranges of MemberSampler (member_sample.h), kept by one shard's
// keyspace between commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::types {

// The range a collection's probes are drawn from (its first and last member), kept between
// draws by one shard. Finding it costs a walk in from each end of the collection, and in a
// set that SPOP is emptying each walk passes the tombstones of every member popped at that
// end since the last compaction: a third of SPOP's time on a set of 30,000 being emptied.
// A kept range may be out of date: its ends popped since (the probes still land on live
// members, wrapping to the first past the end, so this only tilts the draw a little), or
// members added outside it, which the probes would rarely reach: so a range is found
// afresh once the collection has grown since it was kept, and every kReuses draws.
// At most kCapacity collections are kept, the least recently used replaced first.
class ProbeRanges {
 public:
  static constexpr std::uint32_t kReuses = 32;
  static constexpr std::size_t kCapacity = 64;

  struct Range {
    std::string first, last;
  };
  // The kept range of the collection whose member keys start with `prefix` (the prefix
  // names the collection's version) and that now has `size` members, counting this use;
  // nothing when it must be found again.
  std::optional<Range> find(std::string_view prefix, std::uint64_t size);
  // Keeps the range found for that collection at `size` members.
  void keep(std::string_view prefix, Range range, std::uint64_t size);

 private:
  struct Entry {
    std::string prefix;
    Range range;
    std::uint64_t size = 0;
    std::uint32_t uses = 0;
    std::uint64_t last_use = 0;
  };
  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
};

}  // namespace cascade::types
