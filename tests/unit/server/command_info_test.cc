#include "src/server/command_info.h"

#include <doctest/doctest.h>

#include <string>

#include "src/commands/command_families.h"

using namespace cascade::server;
using cascade::resp::ReplyWriter;
using cascade::resp::RespVersion;

// The expected bytes below were captured from redis-server 7.0.15 (COMMAND INFO get/ping,
// with HELLO 2 and HELLO 3), without the outer one-element array.

namespace {

void noop(CommandContext&) {}

constexpr KeySpec kGetKeys[] = {{.flags = kKeyRO | kKeyAccess, .begin_index = 1, .last_key = 0,
                                 .key_step = 1, .limit = 0}};
constexpr CommandSpec kGet = {.name = "get", .arity = 2, .flags = kCmdReadonly | kCmdFast,
                              .categories = kAclString, .first_key = 1, .last_key = 1,
                              .key_step = 1, .group = "string", .since = "1.0.0",
                              .summary = "s", .complexity = "O(1)", .key_specs = kGetKeys,
                              .handler = noop};

std::string info_bytes(const CommandSpec& spec, RespVersion version) {
  ReplyWriter w(version);
  write_command_info(w, spec);
  return w.buffer().to_string();
}

const CommandSpec& builtin(std::string_view full_name) {
  const CommandSpec* spec = cascade::commands::builtin_command_table().find_full_name(full_name);
  REQUIRE(spec != nullptr);
  return *spec;
}

}  // namespace

TEST_CASE("COMMAND INFO of a keyed command matches Redis in RESP2") {
  CHECK(info_bytes(kGet, RespVersion::kResp2) ==
        "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n"
        "+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\n"
        "begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n"
        ":1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\n"
        "lastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n");
}

TEST_CASE("COMMAND INFO of a keyed command matches Redis in RESP3") {
  CHECK(info_bytes(kGet, RespVersion::kResp3) ==
        "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n"
        "+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\n"
        "begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n"
        ":1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\n"
        "lastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n");
}

TEST_CASE("COMMAND INFO ping and client|list match Redis byte for byte") {
  CHECK(info_bytes(builtin("ping"), RespVersion::kResp2) ==
        "*10\r\n$4\r\nping\r\n:-1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n"
        "+@connection\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\n"
        "response_policy:all_succeeded\r\n*0\r\n*0\r\n");
  CHECK(info_bytes(builtin("ping"), RespVersion::kResp3) ==
        "*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n"
        "+@connection\r\n~2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\n"
        "response_policy:all_succeeded\r\n~0\r\n~0\r\n");
  CHECK(info_bytes(builtin("client|list"), RespVersion::kResp2) ==
        "*10\r\n$11\r\nclient|list\r\n:-2\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n"
        ":0\r\n:0\r\n:0\r\n*4\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n+@connection\r\n*1\r\n$23\r\n"
        "nondeterministic_output\r\n*0\r\n*0\r\n");
}

TEST_CASE("a container lists its subcommands as an array, itself with an empty set of keys") {
  const std::string bytes = info_bytes(builtin("config"), RespVersion::kResp3);
  CHECK(bytes.starts_with("*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n"
                          "~0\r\n~0\r\n*5\r\n*10\r\n"));
}

TEST_CASE("COMMAND DOCS gives summary, since, group and complexity, and nests subcommands") {
  ReplyWriter w(RespVersion::kResp3);
  write_command_docs(w, builtin("echo"));
  const std::string echo = w.buffer().to_string();
  CHECK(echo.starts_with("%4\r\n$7\r\nsummary\r\n$"));
  CHECK(echo.find("$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n"
                  "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n") != std::string::npos);
  w.buffer().clear();
  write_command_docs(w, builtin("client"));
  const std::string client = w.buffer().to_string();
  CHECK(client.starts_with("%5\r\n"));
  CHECK(client.find("$11\r\nsubcommands\r\n%16\r\n$14\r\nclient|caching\r\n%4\r\n") !=
        std::string::npos);
}
