#include "engine/table/block_readahead.h"

#include <doctest/doctest.h>

#include <vector>

#include "tests/unit/engine/table/table_file_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;

namespace {

constexpr std::uint64_t kFileNumber = 9;
constexpr std::size_t kPages = 200;

// A file of kPages pages, every byte of page i equal to i % 251, and a one-page "block"
// (stored size 4000) at each page: what a table's data region looks like to the window.
void write_pages(const std::string& path) {
  auto file = open_direct(path, true);
  runtime::AlignedBuffer pages(kPages * kPageSize);
  for (std::size_t i = 0; i < kPages; ++i) {
    std::memset(pages.data() + i * kPageSize, static_cast<int>(i % 251), kPageSize);
  }
  REQUIRE(file->write_at(0, pages.span()));
  REQUIRE(file->close());
}

BlockHandle page_block(std::size_t i) { return BlockHandle{i * kPageSize, 4000}; }

// Notes and reads page i's block, checking it holds page i's bytes.
void read_page(BlockReadahead& ra, runtime::FileHandle& file, std::size_t i,
               BlockReadStats& stats) {
  ra.note(page_block(i));
  auto stored = ra.read(file, kFileNumber, page_block(i), stats);
  REQUIRE_MESSAGE(stored, stored.status().to_string());
  REQUIRE(stored->size() == 4000);
  CHECK(static_cast<unsigned char>(stored->front()) == i % 251);
  CHECK(static_cast<unsigned char>(stored->back()) == i % 251);
}

}  // namespace

TEST_CASE("a forward scan reads growing windows: one block first, then up to 256 KiB") {
  TempDir dir;
  run_io([&] {
    write_pages(dir.file("blocks"));
    auto file = open_direct(dir.file("blocks"), false);
    BlockReadahead ra(kPages * kPageSize);
    BlockReadStats stats;
    std::vector<std::uint64_t> window_bytes;
    for (std::size_t i = 0; i < kPages; ++i) {
      std::uint64_t before = stats.bytes;
      read_page(ra, *file, i, stats);
      if (stats.bytes != before) window_bytes.push_back(stats.bytes - before);
    }
    CHECK(stats.reads == file->reads);
    // 4 KiB alone, then the block plus 16, 32, 64, 128 and 256 KiB, then 256 KiB windows
    // until the limit cuts the last one short.
    REQUIRE(window_bytes.size() >= 7);
    CHECK(window_bytes[0] == kPageSize);
    CHECK(window_bytes[1] == kPageSize + 16 * 1024);
    CHECK(window_bytes[2] == kPageSize + 32 * 1024);
    CHECK(window_bytes[5] == kPageSize + 256 * 1024);
    CHECK(window_bytes[6] == kPageSize + 256 * 1024);
    std::uint64_t total = 0;
    for (std::uint64_t b : window_bytes) total += b;
    CHECK(total == kPages * kPageSize);  // every page read once, none past the limit
    CHECK(stats.reads == window_bytes.size());
  });
}

TEST_CASE("a block that does not continue the scan is read alone, and restarts the readahead") {
  TempDir dir;
  run_io([&] {
    write_pages(dir.file("blocks"));
    auto file = open_direct(dir.file("blocks"), false);
    BlockReadahead ra(kPages * kPageSize);
    BlockReadStats stats;
    // Backward: every block is a jump, so every one is its own one-page read.
    for (std::size_t i = 50; i-- > 40;) read_page(ra, *file, i, stats);
    CHECK(stats.reads == 10);
    CHECK(stats.bytes == 10 * kPageSize);
    CHECK(ra.readahead() == 0);
    // Forward from a seek: the first block alone, the next one starts a 16 KiB readahead.
    read_page(ra, *file, 100, stats);
    CHECK(stats.bytes == 11 * kPageSize);
    read_page(ra, *file, 101, stats);
    CHECK(ra.readahead() == 16 * 1024);
    CHECK(stats.bytes == 12 * kPageSize + 16 * 1024);
    // Blocks inside the window cost nothing, even after a jump back into it.
    read_page(ra, *file, 103, stats);
    read_page(ra, *file, 102, stats);
    CHECK(stats.reads == 12);
  });
}

TEST_CASE("a window that would pass the limit stops at it, and a block past the file is Corruption") {
  TempDir dir;
  run_io([&] {
    write_pages(dir.file("blocks"));
    auto file = open_direct(dir.file("blocks"), false);
    BlockReadahead ra(12 * kPageSize);
    BlockReadStats stats;
    read_page(ra, *file, 10, stats);
    read_page(ra, *file, 11, stats);  // a readahead of 16 KiB, cut to the limit
    CHECK(stats.bytes == 2 * kPageSize);

    BlockReadahead past((kPages + 8) * kPageSize);
    BlockHandle beyond{kPages * kPageSize, 4000};
    past.note(beyond);
    auto r = past.read(*file, kFileNumber, beyond, stats);
    REQUIRE(!r);
    CHECK(r.status().is_corruption());
  });
}
