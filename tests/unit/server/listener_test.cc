#include "src/server/listener.h"

#include <doctest/doctest.h>

using namespace cascade::server;

TEST_CASE("bind takes several addresses, Redis's optional marks and wildcards") {
  CHECK(bind_addresses("127.0.0.1") == std::vector<std::string>{"127.0.0.1"});
  CHECK(bind_addresses("  127.0.0.1   -::1 ") == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(bind_addresses("* -::*") == std::vector<std::string>{"0.0.0.0", "::"});
  CHECK(bind_addresses("").empty());
}
