// Connection's IO-free core: bytes in, replies out, no socket. Commands that reach other
// shards (CLIENT LIST/KILL) run inside a one-shard Runtime.
#include "src/server/connection.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "allocation_counter.h"
#include "src/commands/command_families.h"
#include "src/runtime/runtime.h"
#include "src/server/server_state.h"

using namespace cascade;
using namespace cascade::server;
using Input = Connection::InputResult;

namespace {

Config quiet_config(std::string_view requirepass = "") {
  Config c;
  CHECK(c.set("loglevel", "nothing", false));
  if (!requirepass.empty()) CHECK(c.set("requirepass", requirepass, false));
  return c;
}

struct Harness {
  Logger logger;
  ServerState state;
  explicit Harness(Config config = quiet_config())
      : state(std::move(config), logger, commands::builtin_command_table(), 1) {}
};

struct Fed {
  std::string replies;
  Input last;
};

// Appends `bytes` to the connection's input, runs every complete command, returns the
// replies queued (and clears them).
Fed feed(Connection& c, std::string_view bytes) {
  std::span<char> room = c.input().prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  c.input().commit(bytes.size());
  Input r;
  do {
    r = c.process_input();
  } while (r == Input::kFlush);
  Fed out{c.output().to_string(), r};
  c.output().clear();
  return out;
}

std::string send(Connection& c, std::string_view bytes) { return feed(c, bytes).replies; }

}  // namespace

TEST_CASE("pipelined commands run in order and their replies queue together") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "*1\r\n$4\r\nPING\r\n";
  batch += "*2\r\n$4\r\nECHO\r\n$3\r\nend\r\n";
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += "+PONG\r\n";
  expected += "$3\r\nend\r\n";
  const Fed fed = feed(c, batch);
  CHECK(fed.replies == expected);
  CHECK(fed.last == Input::kNeedMore);
  CHECK(h.state.shard(0).stats().commands_processed == 1001);
}

TEST_CASE("a warm connection serves a pipeline without allocating") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  std::string batch;
  for (int i = 0; i < 100; ++i) {
    batch += "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nSELECT 1\r\n";
    batch += "client id\r\nTIME\r\nCOMMAND COUNT\r\nping x\r\n";
  }
  auto run = [&] {
    std::span<char> room = c.input().prepare(batch.size());
    std::memcpy(room.data(), batch.data(), batch.size());
    c.input().commit(batch.size());
    CHECK(c.process_input() == Input::kNeedMore);
    const std::size_t bytes = c.output().size();
    c.output().consume(bytes);
    return bytes;
  };
  const std::size_t warm = run();
  // Counted before any CHECK: a failing one allocates to report itself.
  const std::uint64_t before = server::testing::allocation_count();
  const std::size_t bytes = run();
  const std::uint64_t allocations = server::testing::allocation_count() - before;
  CHECK(allocations == 0);
  // The same replies, but TIME's: its microseconds take 1 to 6 digits (a run that crossed
  // 100,000 us wrote 100 bytes fewer).
  CHECK(bytes + 500 >= warm);
  CHECK(bytes <= warm + 500);
}

TEST_CASE("a command split across reads runs once it is complete") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  const std::string command = "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
  std::string replies;
  for (char byte : command) replies += send(c, std::string_view(&byte, 1));
  CHECK(replies == "$5\r\nhello\r\n");
}

TEST_CASE("inline commands are split like Redis's, quotes included") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "PING\r\n") == "+PONG\r\n");
  CHECK(send(c, "ECHO \"a b\"\r\n") == "$3\r\na b\r\n");
  CHECK(send(c, "ping hi\n") == "$2\r\nhi\r\n");
}

TEST_CASE("a protocol error is answered after the earlier replies, then the connection closes") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  const Fed fed = feed(c, "*1\r\n$4\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n");
  CHECK(fed.replies == "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n");
  CHECK(fed.last == Input::kClose);
}

TEST_CASE("dispatch errors are replies, and the connection stays open") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "foo a b\r\n") == "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  CHECK(send(c, "echo\r\n") == "-ERR wrong number of arguments for 'echo' command\r\n");
  CHECK(send(c, "client foo\r\n") == "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n");
  CHECK(send(c, "config set\r\n") == "-ERR wrong number of arguments for 'config|set' command\r\n");
  CHECK(send(c, "ping\r\n") == "+PONG\r\n");
  CHECK(h.state.shard(0).stats().error_replies == 4);
}

TEST_CASE("requirepass: only AUTH, HELLO, QUIT and RESET before authenticating") {
  Harness h(quiet_config("secret"));
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "ping\r\n") == "-NOAUTH Authentication required.\r\n");
  CHECK(send(c, "client setname x\r\n") == "-NOAUTH Authentication required.\r\n");
  CHECK(send(c, "hello 3\r\n").starts_with("-NOAUTH HELLO must be called with the client already"));
  CHECK(send(c, "auth wrong\r\n") ==
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK(send(c, "auth bob secret\r\n") ==
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK(send(c, "auth secret\r\nping\r\n") == "+OK\r\n+PONG\r\n");
  CHECK(send(c, "reset\r\nping\r\n") == "+RESET\r\n-NOAUTH Authentication required.\r\n");
  CHECK(send(c, "auth default secret\r\nping\r\n") == "+OK\r\n+PONG\r\n");
}

TEST_CASE("before AUTH the parser applies Redis's limits for unauthenticated clients") {
  Harness h(quiet_config("secret"));
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  const Fed fed = feed(c, "*11\r\n");
  CHECK(fed.replies == "-ERR Protocol error: unauthenticated multibulk length\r\n");
  CHECK(fed.last == Input::kClose);
  Connection d(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(d, "auth secret\r\n") == "+OK\r\n");
  CHECK(feed(d, "*11\r\n").last == Input::kNeedMore);
}

TEST_CASE("AUTH without a configured password is an error, HELLO AUTH default is not") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "auth x\r\n") ==
        "-ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?\r\n");
  CHECK(send(c, "auth a b c\r\n") == "-ERR syntax error\r\n");
  CHECK(send(c, "hello 2 auth default anything\r\n").starts_with("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n"));
}

TEST_CASE("HELLO switches the protocol and answers with the full map") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  const std::string id = std::to_string(c.client().id);
  CHECK(send(c, "hello 3 setname app\r\n") ==
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n"
        ":3\r\n$2\r\nid\r\n:" + id + "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n"
        "$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
  CHECK(c.resp_version() == resp::RespVersion::kResp3);
  CHECK(send(c, "client getname\r\n") == "$3\r\napp\r\n");
  CHECK(send(c, "client setname \"\"\r\nclient getname\r\n") == "+OK\r\n_\r\n");
  CHECK(send(c, "hello 4\r\n") == "-NOPROTO unsupported protocol version\r\n");
  CHECK(send(c, "hello 03\r\n") == "-ERR Protocol version is not an integer or out of range\r\n");
  CHECK(send(c, "hello 3 auth\r\n") == "-ERR Syntax error in HELLO option 'auth'\r\n");
  CHECK(send(c, "hello 2 setname \"a b\"\r\n") ==
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  CHECK(c.resp_version() == resp::RespVersion::kResp3);  // a failed HELLO changes nothing
  CHECK(send(c, "reset\r\n") == "+RESET\r\n");
  CHECK(c.resp_version() == resp::RespVersion::kResp2);
}

TEST_CASE("SELECT keeps the database on the connection, within the configured count") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "select 15\r\n") == "+OK\r\n");
  CHECK(c.client().db == 15);
  CHECK(send(c, "select 16\r\n") == "-ERR DB index is out of range\r\n");
  CHECK(send(c, "select -1\r\n") == "-ERR DB index is out of range\r\n");
  CHECK(send(c, "select x\r\n") == "-ERR value is not an integer or out of range\r\n");
  CHECK(send(c, "select 99999999999\r\n") == "-ERR value is not an integer or out of range\r\n");
  CHECK(c.client().db == 15);
}

TEST_CASE("QUIT replies OK and closes after the replies before it") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  const Fed fed = feed(c, "ping\r\nquit\r\nping\r\n");
  CHECK(fed.replies == "+PONG\r\n+OK\r\n");
  CHECK(fed.last == Input::kClose);
}

TEST_CASE("CLIENT REPLY OFF silences replies until ON; SKIP silences the next one") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "client reply off\r\nping\r\necho x\r\nfoo\r\n") == "");
  CHECK(send(c, "client reply on\r\nping\r\n") == "+OK\r\n+PONG\r\n");
  CHECK(send(c, "client reply skip\r\nping\r\necho a\r\n") == "$1\r\na\r\n");
  CHECK(send(c, "client reply maybe\r\n") == "-ERR syntax error\r\n");
}

TEST_CASE("CONFIG SET changes live directives all or nothing, CONFIG GET reads them back") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(c, "config set timeout 5 maxclients 100\r\n") == "+OK\r\n");
  CHECK(send(c, "config get timeout maxcl*\r\n") ==
        "*4\r\n$7\r\ntimeout\r\n$1\r\n5\r\n$10\r\nmaxclients\r\n$3\r\n100\r\n");
  CHECK(h.state.shard(0).config().timeout == 5);
  CHECK(send(c, "config set timeout 7 maxclients x\r\n") ==
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't "
        "be parsed into an integer\r\n");
  CHECK(h.state.shard(0).config().timeout == 5);
  CHECK(send(c, "config set nosuch 1\r\n") ==
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n");
  CHECK(send(c, "config set timeout 1 timeout 2\r\n") ==
        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter\r\n");
  CHECK(send(c, "config set port 1\r\n") ==
        "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n");
  CHECK(send(c, "config set timeout 1 maxclients\r\n") == "-ERR syntax error\r\n");
  CHECK(send(c, "config get nosuch\r\n") == "*0\r\n");
  CHECK(send(c, "config rewrite\r\n") == "-ERR The server is running without a config file\r\n");
}

TEST_CASE("a password set while connected binds new connections, not authenticated ones") {
  Harness h;
  Connection old_client(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(old_client, "config set requirepass pw\r\n") == "+OK\r\n");
  CHECK(send(old_client, "ping\r\n") == "+PONG\r\n");
  Connection new_client(h.state, h.state.shard(0), runtime::Socket{});
  CHECK(send(new_client, "ping\r\n") == "-NOAUTH Authentication required.\r\n");
}

TEST_CASE("COMMAND answers from the table") {
  Harness h;
  Connection c(h.state, h.state.shard(0), runtime::Socket{});
  const std::size_t count = commands::builtin_command_table().size();
  CHECK(send(c, "command count\r\n") == ":" + std::to_string(count) + "\r\n");
  CHECK(send(c, "command info nosuch echo\r\n").starts_with("*2\r\n$-1\r\n*10\r\n$4\r\necho\r\n:2\r\n"));
  CHECK(send(c, "command docs nosuch\r\n") == "*0\r\n");
  CHECK(send(c, "command getkeys ping x\r\n") == "-ERR The command has no key arguments\r\n");
  CHECK(send(c, "command getkeys nosuch x\r\n") == "-ERR Invalid command specified\r\n");
  CHECK(send(c, "command getkeys echo a b\r\n") == "-ERR The command has no key arguments\r\n");
  CHECK(send(c, "command list filterby pattern cl*\r\n").starts_with("*17\r\n$6\r\nclient\r\n"));
  CHECK(send(c, "command list filterby\r\n") == "-ERR syntax error\r\n");
}

TEST_CASE("CLIENT LIST and KILL reach every connection of the shard") {
  Harness h;
  runtime::RuntimeOptions options;
  options.shards = 1;
  runtime::Runtime rt(options);
  REQUIRE(rt.start());
  h.state.attach_runtime(&rt);
  std::string list, killed, missing, self_info;
  bool alice_closing = false;
  Status s = rt.submit(0, [&] {
    Connection alice(h.state, h.state.shard(0), runtime::Socket{});
    Connection bob(h.state, h.state.shard(0), runtime::Socket{});
    (void)send(alice, "client setname alice\r\n");
    list = send(bob, "client list\r\n");
    self_info = send(bob, "client info\r\n");
    killed = send(bob, "client kill id " + std::to_string(alice.client().id) + "\r\n");
    missing = send(bob, "client kill 1.2.3.4:5\r\n");
    alice_closing = alice.closing();
    return Status::ok();
  }).get();
  CHECK(s);
  CHECK(list.find("name=alice") != std::string::npos);
  CHECK(list.find("cmd=client|list") != std::string::npos);
  CHECK(self_info.find("cmd=client|info") != std::string::npos);
  CHECK(self_info.find("name=alice") == std::string::npos);
  CHECK(killed == ":1\r\n");
  CHECK(missing == "-ERR No such client\r\n");
  CHECK(alice_closing);
  rt.stop();
}
