#include "src/commands/transaction.h"

#include <doctest/doctest.h>

#include <vector>

using namespace cascade;
using namespace cascade::commands;

TEST_CASE("a transaction view shares one record between mentions of the same key") {
  const std::vector<TxnKey> keys = {{0, "a"}, {0, "b"}, {0, "a"}, {1, "a"}};
  TxnView view(keys);
  REQUIRE(view.size() == 4);
  CHECK_FALSE(view.record(0));
  view.put_string(0, 1234, "value");
  REQUIRE(view.record(2));  // the same key, mentioned again
  CHECK(view.record(2)->payload() == "value");
  CHECK(view.record(2)->expire_ms == 1234);
  CHECK_FALSE(view.record(1));
  CHECK_FALSE(view.record(3));  // the same name in another database is another key
  view.erase(2);
  CHECK_FALSE(view.record(0));
}

TEST_CASE("a staged record is encoded as the metadata record format") {
  const std::vector<TxnKey> keys = {{0, "k"}};
  TxnView view(keys);
  view.put(0, types::KeyType::kString, std::nullopt, "payload");
  const types::StoredRecord& staged = *view.record(0);
  auto decoded = types::decode_record(staged.bytes);
  REQUIRE(decoded);
  CHECK(decoded->type == types::KeyType::kString);
  CHECK_FALSE(decoded->expire_ms);
  CHECK(decoded->payload == "payload");
  CHECK(staged.bytes == types::string_record(std::nullopt, "payload"));
}
