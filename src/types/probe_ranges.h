// ProbeRanges: the probe ranges of MemberSampler (member_sample.h), kept by one shard's
// keyspace between commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::types {

// The range a collection's probes are drawn from (its first and last member), kept between
// draws by one shard. Finding it costs a walk in from each end of the collection, and in a
// set that SPOP is emptying each walk passes the tombstones of every member popped at that
// end since the last compaction: a third of SPOP's time on a set of 30,000 being emptied.
// A kept range may be out of date (its ends popped since, members added past them): the
// probes stay within it and still land on live members (wrapping to the first past the
// end), so it only tilts the draw a little, and it is found afresh every kReuses draws.
// At most kCapacity collections are kept, the least recently used replaced first.
class ProbeRanges {
 public:
  static constexpr std::uint32_t kReuses = 32;
  static constexpr std::size_t kCapacity = 64;

  struct Range {
    std::string first, last;
  };
  // The kept range of the collection whose member keys start with `prefix` (the prefix
  // names the collection's version), counting this use; null when it must be found again.
  const Range* find(std::string_view prefix);
  void keep(std::string_view prefix, Range range);

 private:
  struct Entry {
    std::string prefix;
    Range range;
    std::uint32_t uses = 0;
    std::uint64_t last_use = 0;
  };
  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
};

}  // namespace cascade::types
