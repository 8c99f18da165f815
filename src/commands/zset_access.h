// How a read-only sorted-set command that may rank far from the set's ends (ZRANK,
// ZRANGE by index or with a long LIMIT offset, ZRANDMEMBER) opens its key: the rank index
// is built on demand (types/zset.h), and the build writes records, which a plain read
// (CollectionRead: no lock, nothing committed) may not.
//
// read_ranked_zset(t, body) runs body(ZSetRead&) -> KeyReply first as a plain read, with a
// ZSet that refuses a far rank (RankBuild::kAsk). Almost every call ends there. If the
// body was refused, its reply is dropped and it runs again under the key's lock
// (CollectionWrite) with a ZSet that builds (kOnDemand), on the key as it is then (a
// writer may have come between). A build is then committed like any write (one engine
// write, synced as the server's writes are; inside MULTI/EXEC staged in the transaction,
// which holds the key's lock already), but quietly: the set's value did not change, so
// no WATCH fires (LockedKey::commit's `changed`), as no read in Redis touches a watch.
//
// The body reads the set through ZSetRead, and answers a failed read with
// ZSetRead::storage_error (which does not log a refusal as a storage error). It must
// build its reply from nothing on each run.
#pragma once

#include <optional>
#include <utility>

#include "src/commands/collection_access.h"
#include "src/types/zset.h"

namespace cascade::commands {

class ZSetRead {
 public:
  ZSetRead(KeyTarget& t, types::Collection& c, types::RankBuild build)
      : target_(t), coll_(c), zset_(c, build) {}

  bool exists() const { return coll_.exists(); }
  types::ZSet& zset() { return zset_; }
  KeyReply storage_error(const Status& s) {
    if (zset_.rank_index_wanted()) return KeyReply::null();  // dropped: the body runs again
    return storage_failure(target_, s);
  }

 private:
  KeyTarget& target_;
  types::Collection& coll_;
  types::ZSet zset_;
};

template <typename Body>
KeyReply read_ranked_zset(KeyTarget& t, Body body) {
  {
    CollectionRead r(t, types::KeyType::kZSet);
    if (!r.ok()) return std::move(r.failure);
    ZSetRead read(t, r.coll(), types::RankBuild::kAsk);
    KeyReply reply = body(read);
    if (!read.zset().rank_index_wanted()) return reply;
  }
  CollectionWrite w(t, types::KeyType::kZSet);
  if (!w.ok()) return std::move(w.failure);
  ZSetRead read(t, w.coll(), types::RankBuild::kOnDemand);
  KeyReply reply = body(read);
  if (read.zset().built_rank_index()) return w.commit_quietly(std::move(reply));
  return w.commit_unchanged(std::move(reply));
}

}  // namespace cascade::commands
