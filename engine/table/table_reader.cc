// Table reader: footer, pinned metadata, point lookups and iterators (table_reader.h).
#include "engine/table/table_reader.h"

#include <algorithm>
#include <string>

namespace cascade::engine {

TableReader::TableReader(runtime::FileHandle& file, std::uint64_t file_number,
                         std::uint64_t file_size, const TableReaderOptions& options)
    : file_(file), file_number_(file_number), file_size_(file_size), options_(options) {
  if (options_.block_reader == nullptr) {
    uncached_ = std::make_unique<UncachedBlockReader>(file, file_number);
  }
  blocks_ = options_.block_reader != nullptr ? options_.block_reader : uncached_.get();
}

Result<std::unique_ptr<TableReader>> TableReader::open(runtime::FileHandle& file,
                                                       std::uint64_t file_number,
                                                       std::uint64_t file_size,
                                                       const TableReaderOptions& options) {
  std::unique_ptr<TableReader> reader(new TableReader(file, file_number, file_size, options));
  if (Status s = reader->read_footer(); !s) return s;
  if (Status s = reader->read_meta(); !s) return s;
  return reader;
}

Status TableReader::read_footer() {
  if (file_size_ < kFooterSize || file_size_ % kPageSize != 0) {
    return Status::corruption("table: file size " + std::to_string(file_size_) +
                              " is not a whole number of pages with a footer (truncated?)");
  }
  std::uint64_t offset = file_size_ - kFooterSize;
  runtime::AlignedBuffer page(kFooterSize);
  auto n = file_.read_at(offset, page.span());
  if (!n) return n.error();
  if (*n != kFooterSize) return Status::corruption("table: footer past end of file (truncated?)");
  auto footer = decode_footer({reinterpret_cast<const char*>(page.data()), kFooterSize},
                              file_number_, offset);
  if (!footer) return footer.error();
  footer_ = *footer;
  std::uint64_t limit = file_size_ - kFooterSize;
  if (Status s = check_block_handle(footer_.top_index, limit, "top index"); !s) return s;
  if (Status s = check_block_handle(footer_.properties, limit, "properties"); !s) return s;
  if (footer_.filter.stored_size != 0) {
    if (Status s = check_block_handle(footer_.filter, limit, "filter"); !s) return s;
  }
  return Status::ok();
}

// Properties, top index and filter: read once, kept for the reader's life.
Status TableReader::read_meta() {
  BlockDecoder decoder;
  auto props = read_stored_block(file_, file_number_, footer_.properties, decoder);
  if (!props) return props.error();
  auto decoded = decode_properties(props->contents.data);
  if (!decoded) return decoded.error();
  props_ = std::move(*decoded);
  props_.file_size = file_size_;

  auto top = read_stored_block(file_, file_number_, footer_.top_index, decoder);
  if (!top) return top.error();
  auto pinned = pin_block(std::move(*top));
  if (!pinned) return pinned.error();
  top_index_ = std::move(*pinned);
  find_data_end();

  if (footer_.filter.stored_size == 0 || !options_.use_filter) return Status::ok();
  auto filter = read_stored_block(file_, file_number_, footer_.filter, decoder);
  if (!filter) return filter.error();
  filter_bytes_ = std::move(*filter);
  auto opened = BloomFilter::open(filter_bytes_.contents.data);
  if (opened) {
    filter_ = *opened;
  } else if (opened.error().code() != StatusCode::kNotSupported) {
    return opened.error();  // a filter from a newer writer is skipped, a corrupt one is not
  }
  return Status::ok();
}

// Index partitions follow the data blocks (table_format.h): the first one's offset ends
// them. A top index that cannot say leaves the end at the top index, which only lets
// windows read index pages too: the iterators report the damage when they meet it.
void TableReader::find_data_end() {
  data_end_ = footer_.top_index.offset;
  BlockIterator top = top_index_->iterator(kInternalKeyComparator);
  top.seek_to_first();
  if (!top.valid()) return;
  std::string_view in = top.value();
  auto first_partition = decode_block_handle(in);
  if (first_partition) data_end_ = std::min(data_end_, first_partition->offset);
}

Result<BlockRef> TableReader::load(const BlockHandle& handle, BlockKind kind,
                                   BlockReadahead* readahead) {
  const char* what = kind == BlockKind::kData ? "data block" : "index partition";
  if (Status s = check_block_handle(handle, file_size_ - kFooterSize, what); !s) return s;
  if (readahead != nullptr) readahead->note(handle);
  return blocks_->read_block(handle, kind, readahead);
}

Result<std::optional<TableEntry>> TableReader::get(std::string_view seek_key,
                                                   std::uint64_t user_key_hash) {
  if (seek_key.size() < kTrailerSize) return Status::invalid_argument("table: short seek key");
  if (filter_) {
    stats_.filter_checked++;
    if (!filter_->may_contain(user_key_hash)) {
      stats_.filter_useful++;
      return std::optional<TableEntry>();
    }
  }
  BlockIterator top = top_index_->iterator(kInternalKeyComparator);
  top.seek(seek_key);
  if (!top.valid()) {
    if (!top.status()) return top.status();
    return std::optional<TableEntry>();
  }
  std::string_view in = top.value();
  auto partition_handle = decode_block_handle(in);
  if (!partition_handle) return partition_handle.error();
  auto partition = load(*partition_handle, BlockKind::kIndex);
  if (!partition) return partition.error();
  BlockIterator index = (*partition)->iterator(kInternalKeyComparator);
  index.seek(seek_key);
  if (!index.valid()) {
    if (!index.status()) return index.status();
    return Status::corruption("table: index partition ends before its top index separator");
  }
  return find_in_data_block(seek_key, index.value());
}

// Separators are < the next block's first key, so when seek_key is past this block's
// last entry, the next block starts with a greater user key: nothing to find.
Result<std::optional<TableEntry>> TableReader::find_in_data_block(std::string_view seek_key,
                                                                  std::string_view handle_value) {
  auto handle = decode_block_handle(handle_value);
  if (!handle) return handle.error();
  auto block = load(*handle, BlockKind::kData);
  if (!block) return block.error();
  BlockIterator it = (*block)->iterator(kInternalKeyComparator);
  it.seek(seek_key);
  if (!it.valid()) {
    if (!it.status()) return it.status();
    return std::optional<TableEntry>();
  }
  ParsedInternalKey parsed;
  if (!parse_internal_key(it.key(), parsed)) return Status::corruption("table: bad internal key");
  if (parsed.user_key != extract_user_key(seek_key)) return std::optional<TableEntry>();
  return std::optional<TableEntry>(
      TableEntry{parsed.sequence, parsed.type, it.value(), std::move(*block)});
}

std::unique_ptr<InternalIterator> TableReader::top_index_iterator() const {
  return std::make_unique<PinnedBlockIterator>(top_index_);
}

std::unique_ptr<InternalIterator> TableReader::index_iterator() {
  return std::make_unique<TwoLevelIterator>(
      top_index_iterator(), [this](const BlockHandle& h) { return load(h, BlockKind::kIndex); });
}

// Once the scan has its last data block (decoded, so nothing views the window any more),
// the window is dropped for a fresh one: a scan over a level keeps an iterator per table,
// and finished tables must not each keep up to kMaxBlockReadahead bytes until it ends.
std::unique_ptr<InternalIterator> TableReader::iterator() {
  auto readahead = std::make_shared<BlockReadahead>(data_end_);
  return std::make_unique<TwoLevelIterator>(
      index_iterator(), [this, readahead = std::move(readahead)](const BlockHandle& h) mutable {
        Result<BlockRef> block = load(h, BlockKind::kData, readahead.get());
        if (h.padded_end() >= data_end_ && readahead->readahead() > 0) {
          readahead = std::make_shared<BlockReadahead>(data_end_);
        }
        return block;
      });
}

bool TableReader::may_contain_prefix(std::string_view prefix) const {
  if (!filter_ || options_.prefix_extractor == nullptr) return true;
  return filter_->may_contain_prefix(options_.prefix_extractor->id(), prefix_hash(prefix));
}

}  // namespace cascade::engine
