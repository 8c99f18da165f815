// Redis's glob-style pattern matching, as KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE use
// it: `*` any run, `?` one byte, `[abc]` / `[^abc]` / `[a-z]` a class, `\x` the byte x.
// Bytes, not characters: patterns and subjects may be binary. `nocase` folds ASCII case.
#pragma once

#include <string_view>

namespace cascade::server {

bool glob_match(std::string_view pattern, std::string_view subject, bool nocase = false);

}  // namespace cascade::server
