// One compaction job: inputs merged, filtered and rewritten (compaction_job.h).
#include "engine/compaction/compaction_job.h"

#include <memory>

#include "engine/compaction/compaction_outputs.h"
#include "engine/iterator/merging_iterator.h"
#include "engine/table/table_reader.h"
#include "engine/table_cache.h"
#include "engine/version/file_names.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

namespace {

// An input table opened for this job only. The reader is declared last: destroyed first.
struct InputTable {
  std::unique_ptr<runtime::FileHandle> file;
  std::unique_ptr<TableReader> reader;
  ~InputTable() {
    reader.reset();
    if (file) (void)file->close();
  }
};

Result<std::unique_ptr<InputTable>> open_input(runtime::FileSystem& fs, const std::string& dir,
                                               const TableFile& t,
                                               runtime::RateLimiter* limiter,
                                               IoByteCounters& counters) {
  runtime::OpenOptions options = runtime::OpenOptions::read_only();
  options.direct = true;
  auto file = fs.open(path_join(dir, table_file_name(t.file_number)), options);
  if (!file) {
    if (file.error().is_not_found()) {
      return Status::corruption("table " + table_file_name(t.file_number) + " is missing");
    }
    return file.error();
  }
  auto input = std::make_unique<InputTable>();
  input->file = std::make_unique<ThrottledFile>(std::move(*file), limiter, counters);
  TableReaderOptions reader_options;
  reader_options.use_filter = false;  // a compaction never probes
  auto reader = TableReader::open(*input->file, t.file_number, t.file_size, reader_options);
  if (!reader) return reader.error();
  input->reader = std::move(*reader);
  return input;
}

CompactionOutputOptions output_options(const CompactionJobOptions& o, const Compaction& c) {
  CompactionOutputOptions out;
  out.dir = o.dir;
  out.target_file_size = o.output.target_file_size;
  out.max_grandparent_overlap = c.max_grandparent_overlap;
  out.builder.compression = o.output.compression;
  out.builder.filter.bits_per_key = o.bloom_bits_per_key;
  out.builder.filter.prefix_extractor = o.prefix_extractor;
  // An output table's filter (half a million keys for 32 MiB of small entries) is built
  // in one go at its end: yield within it as between blocks, or a reader whose IO just
  // completed waits milliseconds for the thread.
  out.builder.pause = [] { runtime::this_fiber::yield(); };
  out.new_file_number = o.new_file_number;
  out.rate_limiter = o.rate_limiter;
  return out;
}

// Drains the compaction iterator into the outputs, pausing per block and per entry batch.
Status write_outputs(CompactionIterator& it, CompactionOutputs& outputs,
                     const std::function<Status()>& pause) {
  std::uint64_t blocks_seen = 0;
  std::uint64_t entries_seen = 0;
  for (it.seek_to_first(); it.valid(); it.next()) {
    if (Status s = outputs.add(it.key(), it.value()); !s) return s;
    std::uint64_t blocks = outputs.data_blocks();
    std::uint64_t entries = it.stats().input_entries;
    if (blocks != blocks_seen || entries - entries_seen >= kCompactionPauseEntries) {
      blocks_seen = blocks;
      entries_seen = entries;
      if (Status s = pause(); !s) return s;
    }
  }
  if (Status s = it.status(); !s) return s;
  return outputs.finish();
}

}  // namespace

Result<CompactionJobResult> run_compaction_job(runtime::FileSystem& fs, const Compaction& c,
                                               const CompactionJobOptions& options) {
  CompactionJobResult result;
  std::vector<std::unique_ptr<InputTable>> inputs;
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (const auto& side : c.inputs) {
    for (const TableFilePtr& t : side) {
      auto input = open_input(fs, options.dir, *t, options.rate_limiter, result.io);
      if (!input) return input.error();
      children.push_back((*input)->reader->iterator());
      inputs.push_back(std::move(*input));
    }
  }
  MergingIterator merged(std::move(children));

  std::unique_ptr<CompactionValueHandler> handler;
  if (options.value_hooks != nullptr) handler = options.value_hooks->start_job(c);
  DeeperLevels deeper(*c.version, c.output_level);
  CompactionIteratorOptions iter_options;
  iter_options.snapshots = options.snapshots;
  iter_options.visible = options.visible;
  iter_options.deeper = &deeper;
  iter_options.output_level = c.output_level;
  iter_options.filter = options.filter;
  iter_options.value_handler = handler.get();
  CompactionIterator it(merged, std::move(iter_options));

  CompactionOutputs outputs(fs, output_options(options, c), c.grandparents, result.io);
  std::function<Status()> pause = options.pause;
  if (!pause) {
    pause = [] {
      runtime::this_fiber::yield();
      return Status::ok();
    };
  }
  Status s = write_outputs(it, outputs, pause);
  result.entries = it.stats();
  c.add_input_removals(result.edit);
  for (const TableFile& t : outputs.tables()) result.edit.add_table(c.output_level, t);
  if (s && handler) s = handler->finish(result.edit);
  if (!s) {
    outputs.abandon();
    return s;
  }
  result.outputs = outputs.tables();
  return result;
}

}  // namespace cascade::engine
