#include "src/server/dispatcher.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace cascade::server;

namespace {

void noop(CommandContext&) {}

const CommandSpec kBoxSubs[] = {
    {.name = "box|open", .arity = 3, .group = "g", .since = "1", .summary = "s", .handler = noop},
    {.name = "box|help", .arity = 2, .flags = kCmdNoAuth, .group = "g", .since = "1",
     .summary = "s", .handler = noop},
};
const CommandSpec kSpecs[] = {
    {.name = "get", .arity = 2, .group = "g", .since = "1", .summary = "s", .handler = noop},
    {.name = "ping", .arity = -1, .group = "g", .since = "1", .summary = "s", .handler = noop},
    {.name = "auth", .arity = -2, .flags = kCmdNoAuth, .group = "g", .since = "1", .summary = "s",
     .handler = noop},
    {.name = "box", .arity = -2, .group = "g", .since = "1", .summary = "s",
     .subcommands = kBoxSubs},
};

const CommandTable& table() {
  static const CommandTable t({&kSpecs[0], &kSpecs[1], &kSpecs[2], &kSpecs[3]});
  return t;
}

Dispatch resolve(std::vector<std::string_view> args, bool auth_required = false) {
  return resolve_command(table(), args, auth_required);
}

std::string error_of(std::vector<std::string_view> args, bool auth_required = false) {
  return dispatch_error_text(resolve(args, auth_required), args);
}

}  // namespace

TEST_CASE("dispatch finds commands in any case") {
  CHECK(resolve({"GET", "k"}).spec == &kSpecs[0]);
  CHECK(resolve({"gEt", "k"}).error == DispatchError::kNone);
  CHECK(resolve({"BOX", "OPEN", "x"}).spec == &kBoxSubs[0]);
}

TEST_CASE("unknown commands quote their first arguments as Redis does") {
  CHECK(error_of({"foo", "a", "b"}) == "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
  CHECK(error_of({"foo"}) == "ERR unknown command 'foo', with args beginning with: ");
}

TEST_CASE("unknown-command quoting stops at 128 bytes and at a NUL") {
  const std::string long_arg(200, 'x');
  const std::string text = error_of({"foo", long_arg, "next"});
  CHECK(text == "ERR unknown command 'foo', with args beginning with: '" + std::string(128, 'x') + "' ");
  const std::string long_name(300, 'n');
  CHECK(error_of({long_name}) ==
        "ERR unknown command '" + std::string(128, 'n') + "', with args beginning with: ");
  const std::string with_nul("ab\0cd", 5);
  CHECK(error_of({"foo", with_nul}) == "ERR unknown command 'foo', with args beginning with: 'ab' ");
  // The budget shrinks with what was already quoted: 60 + 3 bytes used, 65 left.
  const std::string sixty(60, 'a');
  CHECK(error_of({"foo", sixty, long_arg}) ==
        "ERR unknown command 'foo', with args beginning with: '" + sixty + "' '" +
            std::string(65, 'x') + "' ");
}

TEST_CASE("arity errors name the command in lower case, subcommands as container|sub") {
  CHECK(error_of({"GET"}) == "ERR wrong number of arguments for 'get' command");
  CHECK(error_of({"get", "a", "b"}) == "ERR wrong number of arguments for 'get' command");
  CHECK(error_of({"box"}) == "ERR wrong number of arguments for 'box' command");
  CHECK(error_of({"box", "open"}) == "ERR wrong number of arguments for 'box|open' command");
  CHECK(resolve({"ping"}).error == DispatchError::kNone);
  CHECK(resolve({"ping", "a", "b", "c"}).error == DispatchError::kNone);
}

TEST_CASE("unknown subcommands keep the client's spelling and name the container's HELP") {
  CHECK(error_of({"box", "FoO"}) == "ERR unknown subcommand 'FoO'. Try BOX HELP.");
}

TEST_CASE("before authentication only no_auth commands run, after the other checks") {
  CHECK(error_of({"get", "k"}, true) == "NOAUTH Authentication required.");
  CHECK(resolve({"auth", "pw"}, true).error == DispatchError::kNone);
  CHECK(resolve({"box", "help"}, true).error == DispatchError::kNone);
  CHECK(resolve({"box", "open", "x"}, true).error == DispatchError::kNoAuth);
  // Redis reports an unknown command or a wrong arity even to an unauthenticated client.
  CHECK(resolve({"nope"}, true).error == DispatchError::kUnknownCommand);
  CHECK(resolve({"get"}, true).error == DispatchError::kWrongArity);
  CHECK(resolve({"box", "nope"}, true).error == DispatchError::kUnknownSubcommand);
}
