#include "src/server/config.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace cascade::server;
using cascade::Status;

namespace {
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/cascade-config-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream(path) << contents;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string read() const {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};
}  // namespace

TEST_CASE("defaults are safe: loopback, port 6379, every write synced") {
  Config c;
  CHECK(c.values().bind == "127.0.0.1");
  CHECK(c.values().port == 6379);
  CHECK(c.values().appendfsync == "always");
  CHECK(c.values().requirepass.empty());
}

TEST_CASE("memory values accept Redis's units") {
  std::int64_t v;
  CHECK((parse_memory("100", v) && v == 100));
  CHECK((parse_memory("1k", v) && v == 1000));
  CHECK((parse_memory("1kb", v) && v == 1024));
  CHECK((parse_memory("64MB", v) && v == 64 * 1024 * 1024));
  CHECK((parse_memory("2gb", v) && v == 2LL * 1024 * 1024 * 1024));
  CHECK_FALSE(parse_memory("", v));
  CHECK_FALSE(parse_memory("mb", v));
  CHECK_FALSE(parse_memory("-5", v));
  CHECK_FALSE(parse_memory("12xb", v));
  CHECK_FALSE(parse_memory("99999999999999999gb", v));
}

TEST_CASE("config lines split like Redis: quotes and escapes") {
  std::vector<std::string> a;
  REQUIRE(split_config_line("requirepass \"a b\\x41\\n\"", a));
  CHECK(a == std::vector<std::string>{"requirepass", std::string("a bA\n")});
  REQUIRE(split_config_line("dir '/tmp/it\\'s'", a));
  CHECK(a == std::vector<std::string>{"dir", "/tmp/it's"});
  CHECK_FALSE(split_config_line("dir \"unterminated", a));
  CHECK_FALSE(split_config_line("dir \"a\"b", a));
}

TEST_CASE("a config file sets directives and comments are ignored") {
  TempFile f("# a comment\n\nport 7001\nMemtable-Size 8mb\nappendfsync everysec\n"
             "requirepass \"s3cret pass\"\nappendonly no\n");
  Config c;
  REQUIRE(c.load_file(f.path));
  CHECK(c.values().port == 7001);
  CHECK(c.values().memtable_size == 8 * 1024 * 1024);
  CHECK(c.values().appendfsync == "everysec");
  CHECK(c.values().requirepass == "s3cret pass");
  CHECK_FALSE(c.values().appendonly);
}

TEST_CASE("a bad config file fails naming the line and the reason") {
  Config c;
  {
    TempFile f("port 7001\nbogus-directive 1\n");
    Status s = c.load_file(f.path);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.message().find("at line 2") != std::string::npos);
    CHECK(s.message().find("'bogus-directive 1'") != std::string::npos);
    CHECK(s.message().find("Bad directive") != std::string::npos);
  }
  {
    TempFile f("port 99999\n");
    Status s = c.load_file(f.path);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.message().find("between 0 and 65535") != std::string::npos);
  }
  {
    TempFile f("appendfsync sometimes\n");
    CHECK_FALSE(c.load_file(f.path).is_ok());
  }
  {
    TempFile f("appendonly maybe\n");
    CHECK_FALSE(c.load_file(f.path).is_ok());
  }
  CHECK_FALSE(c.load_file("/nonexistent/cascade.conf").is_ok());
}

TEST_CASE("flags override the file and fail on unknown directives") {
  Config c;
  REQUIRE(c.apply_flags({"--port", "7002", "--dir", "/tmp/x", "--shards", "2"}));
  CHECK(c.values().port == 7002);
  CHECK(c.values().dir == "/tmp/x");
  CHECK(c.values().shards == 2);
  CHECK_FALSE(c.apply_flags({"--nope", "1"}).is_ok());
  CHECK_FALSE(c.apply_flags({"port", "1"}).is_ok());
  CHECK_FALSE(c.apply_flags({"--port", "1", "2"}).is_ok());
}

TEST_CASE("only live directives change while running") {
  Config c;
  CHECK(c.set("maxclients", "50", true));
  CHECK(c.values().maxclients == 50);
  Status s = c.set("port", "7000", true);
  CHECK_FALSE(s.is_ok());
  CHECK(s.message() == "can't set immutable config");
  CHECK(c.values().port == 6379);
}

TEST_CASE("CONFIG GET patterns match directive names") {
  Config c;
  auto all = c.match("*");
  CHECK(all.size() == directives().size());
  auto wal = c.match("wal-*");
  REQUIRE(wal.size() == 2);
  CHECK(wal[0].first == "wal-segment-size");
  CHECK(c.match("PORT").at(0).second == "6379");
}

TEST_CASE("rewrite keeps comments, updates values in place and appends changes") {
  TempFile f("# keep me\nport 7001\nmaxclients 10\n");
  Config c;
  REQUIRE(c.load_file(f.path));
  REQUIRE(c.set("maxclients", "20", true));
  REQUIRE(c.set("requirepass", "p w", true));
  REQUIRE(c.rewrite(f.path));
  CHECK(f.read() == "# keep me\nport 7001\nmaxclients 20\nrequirepass \"p w\"\n");
  Config again;
  REQUIRE(again.load_file(f.path));
  CHECK(again.values().requirepass == "p w");
  CHECK(again.values().maxclients == 20);
}

TEST_CASE("the shipped conf/cascade.conf loads and keeps the safe defaults") {
  Config c;
  REQUIRE(c.load_file(CASCADE_SOURCE_ROOT "/conf/cascade.conf"));
  CHECK(c.values().bind == "127.0.0.1");
  CHECK(c.values().port == 6379);
  CHECK(c.values().dir == "./data");
  CHECK(c.values().appendfsync == "always");
  CHECK(c.values().logfile.empty());
}
