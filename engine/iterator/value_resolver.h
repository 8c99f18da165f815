// ValueResolver: how a DBIterator turns a kValuePointer entry into its value. The engine
// gives each iterator one (engine/vlog/vlog_prefetcher.h); DBIterator itself never reads
// a value log. Calls come in scan order, which is what lets a resolver read ahead.
//
// One shard; resolve() may suspend the calling fiber on IO.
#pragma once

#include <string_view>

#include "src/runtime/result.h"

namespace cascade::engine {

class ValueResolver {
 public:
  virtual ~ValueResolver() = default;
  // The value of the entry (user_key, pointer). The view stays valid until the next call
  // or the resolver's destruction. Corruption when the stored record fails its checks.
  virtual Result<std::string_view> resolve(std::string_view user_key,
                                           std::string_view pointer) = 0;
};

}  // namespace cascade::engine
