// Reading a key that must hold a string, for the string commands: the live record or
// none, and a ready reply when that fails (an engine error, logged, or WRONGTYPE when the
// key holds another type). read_string() reads without a lock (one engine get is atomic);
// load_string() reads under the key's lock the caller holds, deleting an expired record
// (types::LockedKey::load).
#pragma once

#include <optional>

#include "src/commands/key_command.h"
#include "src/server/error_replies.h"

namespace cascade::commands {

struct StringRead {
  std::optional<types::StoredRecord> record;  // none: the key does not exist
  KeyReply failure;
  bool failed = false;

  bool ok() const { return !failed; }
};

inline StringRead string_read_from(const KeyTarget& t,
                                   Result<std::optional<types::StoredRecord>> loaded) {
  StringRead r;
  if (!loaded) {
    r.failed = true;
    r.failure = storage_failure(t, loaded.error());
  } else if (loaded->has_value() && (*loaded)->type != types::KeyType::kString) {
    r.failed = true;
    r.failure = KeyReply::error(server::kErrWrongType);
  } else {
    r.record = std::move(*loaded);
  }
  return r;
}

inline StringRead read_string(KeyTarget& t) { return string_read_from(t, t.read()); }

inline StringRead load_string(KeyTarget& t, types::LockedKey& lock) {
  return string_read_from(t, lock.load(t.now_ms));
}

}  // namespace cascade::commands
