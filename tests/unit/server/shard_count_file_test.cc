#include "src/server/shard_count_file.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdlib.h>

#include "src/runtime/reactor.h"

using namespace cascade::server;
using cascade::runtime::real_file_system;

namespace {

// Outside a fiber, file IO blocks on a reactor of the calling thread.
struct TempDir {
  cascade::runtime::Reactor reactor;
  std::string path;
  TempDir() {
    REQUIRE(reactor.init().is_ok());
    char name[] = "/tmp/cascade-shards-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string read(const std::string& name) const {
    std::ifstream in(path + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const std::string& name, const std::string& contents) const {
    std::ofstream(path + "/" + name) << contents;
  }
};

}  // namespace

TEST_CASE("a new data directory stores the requested shard count") {
  TempDir dir;
  auto count = load_or_create_shard_count(real_file_system(), dir.path, 3);
  REQUIRE(count.has_value());
  CHECK(count->shards == 3);
  CHECK(count->created);
  CHECK(dir.read("shards") == "cascade-shards 1\n3\n");
  CHECK_FALSE(std::filesystem::exists(dir.path + "/shards.tmp"));
}

TEST_CASE("an existing data directory keeps its shard count") {
  TempDir dir;
  REQUIRE(load_or_create_shard_count(real_file_system(), dir.path, 4).has_value());
  auto count = load_or_create_shard_count(real_file_system(), dir.path, 2);
  REQUIRE(count.has_value());
  CHECK(count->shards == 4);
  CHECK_FALSE(count->created);
  CHECK(dir.read("shards") == "cascade-shards 1\n4\n");
}

TEST_CASE("a malformed or newer shard count file is refused, not rewritten") {
  for (std::string contents : {"cascade-shards 2\n4\n", "cascade-shards 1\nfour\n",
                               "cascade-shards 1\n0\n", "cascade-shards 1\n4", "",
                               "cascade-shards 1\n4\nextra\n"}) {
    TempDir dir;
    dir.write("shards", contents);
    auto count = load_or_create_shard_count(real_file_system(), dir.path, 2);
    REQUIRE_FALSE(count.has_value());
    CHECK(count.error().is_corruption());
    CHECK(dir.read("shards") == contents);
  }
}

TEST_CASE("shard directories are numbered with three digits") {
  CHECK(shard_directory("/d", 0) == "/d/shard-000");
  CHECK(shard_directory("/d", 42) == "/d/shard-042");
}
