// Replies listing sorted-set members, shaped as Redis 7.0 shapes them: with scores, a
// RESP3 client gets an array of [member, score] pairs and a RESP2 client one flat array
// (member, score, member, score...), scores as doubles (bulk strings in RESP2); without
// scores, an array of members. ZPOPMIN/ZPOPMAX without a count answer one flat pair even in
// RESP3 (`nested` false).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/commands/key_command.h"

namespace cascade::commands {

class ScoredReply {
 public:
  ScoredReply(bool resp3, bool withscores, bool nested = true)
      : pairs_(resp3 && withscores && nested),
        encode_(!withscores || !resp3),
        withscores_(withscores) {}

  void add(double score, std::string_view member) {
    if (encode_) {  // bulk strings only, the same bytes in both protocols: encoded at once
      encoded_.bulk(member);
      if (withscores_) encoded_.double_as_bulk(score);
      return;
    }
    if (pairs_) {
      std::vector<KeyReply> pair;
      pair.reserve(2);
      pair.push_back(KeyReply::bulk(std::string(member)));
      pair.push_back(KeyReply::real_number(score));
      items_.push_back(KeyReply::array(std::move(pair)));
      return;
    }
    items_.push_back(KeyReply::bulk(std::string(member)));
    if (withscores_) items_.push_back(KeyReply::real_number(score));
  }
  std::size_t size() const { return encode_ ? encoded_.count() : items_.size(); }
  KeyReply finish() {
    return encode_ ? KeyReply::encoded_array(std::move(encoded_))
                   : KeyReply::array(std::move(items_));
  }

 private:
  bool pairs_;
  // Without scores, or for a RESP2 client (scores as bulk strings), every element is a
  // bulk string: encoded as added (resp::EncodedElements), no object per element.
  bool encode_;
  bool withscores_;
  std::vector<KeyReply> items_;
  resp::EncodedElements encoded_;
};

}  // namespace cascade::commands
