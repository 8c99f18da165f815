#include "src/server/command_table.h"

#include <doctest/doctest.h>

#include <string>

#include "src/commands/command_families.h"

using namespace cascade::server;

TEST_CASE("the builtin table follows every declaration rule") {
  const CommandTable& table = cascade::commands::builtin_command_table();
  for (const std::string& problem : table.validate()) FAIL_CHECK(problem);
  CHECK(table.size() >= 10);
}

TEST_CASE("lookup ignores case and allocates nothing for misses") {
  const CommandTable& table = cascade::commands::builtin_command_table();
  const CommandSpec* ping = table.find("ping");
  REQUIRE(ping != nullptr);
  CHECK(table.find("PING") == ping);
  CHECK(table.find("PiNg") == ping);
  CHECK(table.find("pingx") == nullptr);
  CHECK(table.find("pin") == nullptr);
  CHECK(table.find("") == nullptr);
  CHECK(table.find(std::string(1000, 'p')) == nullptr);
}

TEST_CASE("every builtin command is found by its own name in upper case") {
  const CommandTable& table = cascade::commands::builtin_command_table();
  for (const CommandSpec* spec : table.commands()) {
    std::string upper(spec->name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(table.find(upper) == spec);
  }
}

TEST_CASE("subcommands are found by short or full name") {
  const CommandTable& table = cascade::commands::builtin_command_table();
  const CommandSpec* client = table.find("client");
  REQUIRE(client != nullptr);
  const CommandSpec* list = CommandTable::find_subcommand(*client, "LIST");
  REQUIRE(list != nullptr);
  CHECK(list->name == "client|list");
  CHECK(subcommand_name(*list) == "list");
  CHECK(table.find_full_name("CLIENT|List") == list);
  CHECK(table.find_full_name("client") == client);
  CHECK(table.find_full_name("client|nope") == nullptr);
  CHECK(table.find_full_name("nope|list") == nullptr);
}

TEST_CASE("arity: N means exactly N arguments, -N at least N") {
  CHECK(arity_accepts(2, 2));
  CHECK_FALSE(arity_accepts(2, 1));
  CHECK_FALSE(arity_accepts(2, 3));
  CHECK(arity_accepts(-2, 2));
  CHECK(arity_accepts(-2, 7));
  CHECK_FALSE(arity_accepts(-2, 1));
}

TEST_CASE("ACL categories add what the flags imply, as Redis derives them") {
  CommandSpec get{.name = "get", .arity = 2, .flags = kCmdReadonly | kCmdFast,
                  .categories = kAclString};
  CHECK(acl_categories(get) == (kAclRead | kAclString | kAclFast));
  CommandSpec kill{.name = "client|kill", .arity = -3, .flags = kCmdAdmin,
                   .categories = kAclConnection};
  CHECK(acl_categories(kill) == (kAclAdmin | kAclSlow | kAclDangerous | kAclConnection));
}

TEST_CASE("validation names the broken declarations") {
  static void (*const noop)(CommandContext&) = [](CommandContext&) {};
  static const CommandSpec bad_sub[] = {
      {.name = "other|x", .arity = 2, .group = "g", .since = "1", .summary = "s", .handler = noop},
  };
  static const CommandSpec specs[] = {
      {.name = "Upper", .arity = 1, .group = "g", .since = "1", .summary = "s", .handler = noop},
      {.name = "zero", .arity = 0, .group = "g", .since = "1", .summary = "s", .handler = noop},
      {.name = "nohandler", .arity = 1, .group = "g", .since = "1", .summary = "s"},
      {.name = "box", .arity = -2, .group = "g", .since = "1", .summary = "s",
       .subcommands = bad_sub},
      {.name = "keys", .arity = 2, .first_key = 1, .group = "g", .since = "1", .summary = "s",
       .handler = noop},
  };
  CommandTable table({&specs[0], &specs[1], &specs[2], &specs[3], &specs[4]});
  const std::vector<std::string> problems = table.validate();
  auto mentions = [&](std::string_view what) {
    for (const std::string& p : problems) {
      if (p.find(what) != std::string::npos) return true;
    }
    return false;
  };
  CHECK(mentions("Upper: name must be lower case"));
  CHECK(mentions("zero: arity"));
  CHECK(mentions("nohandler: a command without subcommands needs a handler"));
  CHECK(mentions("other|x: must start with box|"));
  CHECK(mentions("keys: inconsistent key positions"));
}

TEST_CASE("keys_from_specs reads ranges and key counts as Redis's key specs do") {
  constexpr KeySpec kStore[] = {{.flags = kKeyOW},
                                {.flags = kKeyRO, .begin_index = 2, .find = FindKeys::kKeynum}};
  auto keys_of = [&](std::vector<std::string_view> args) {
    std::vector<std::string_view> keys;
    if (!keys_from_specs(kStore, args, keys)) return std::vector<std::string_view>{"<invalid>"};
    return keys;
  };
  using V = std::vector<std::string_view>;
  CHECK(keys_of({"zunionstore", "d", "2", "a", "b", "weights", "1", "2"}) == V{"d", "a", "b"});
  CHECK(keys_of({"zunionstore", "d", "1", "a", "b"}) == V{"d", "a"});
  CHECK(keys_of({"zunionstore", "d", "3", "a", "b"}) == V{"<invalid>"});
  CHECK(keys_of({"zunionstore", "d", "x", "a"}) == V{"<invalid>"});
  CHECK(keys_of({"zunionstore", "d", "-1", "a"}) == V{"<invalid>"});
  CHECK(keys_of({"zunionstore", "d", "+1", "a"}) == V{"<invalid>"});
  CHECK(keys_of({"zunionstore", "d", "0", "a"}) == V{"<invalid>"});
  constexpr KeySpec kTail[] = {{.flags = kKeyRW, .last_key = -2, .key_step = 1}};
  std::vector<std::string_view> keys;
  std::vector<std::string_view> args{"blpop", "a", "b", "0"};
  CHECK(keys_from_specs(kTail, args, keys));
  CHECK(keys == V{"a", "b"});
}
