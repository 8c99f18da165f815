// Table writer: data blocks, index partitions, top index, filter, properties, footer
// (table_builder.h; the layout is in table_format.h).
#include "engine/table/table_builder.h"

#include <algorithm>
#include <ctime>

namespace cascade::engine {

namespace {

BlockBuilderOptions data_block_options(const CompressionOptions& c) {
  BlockBuilderOptions o;
  o.restart_interval = kDataBlockRestartInterval;
  o.size_cap = std::min(c.max_block_size, kMaxBlockSize);
  return o;
}

// Index partitions fill at most one page stored raw.
BlockBuilderOptions index_block_options(std::size_t cap) {
  BlockBuilderOptions o;
  o.restart_interval = kIndexBlockRestartInterval;
  o.size_cap = cap;
  return o;
}

CompressionOptions raw_storage() {
  CompressionOptions o;
  o.type = CompressionType::kNone;
  return o;
}

}  // namespace

TableBuilder::TableBuilder(runtime::FileHandle& file, const TableBuilderOptions& options)
    : file_(file), options_(options), data_block_(data_block_options(options.compression)),
      compressor_(options.compression), meta_compressor_(raw_storage()),
      estimator_(options.compression, options.page_fit),
      writer_(file, options.write_chunk_size), filter_(options.filter),
      index_block_(index_block_options(kPagePayloadCapacity)) {
  props_.file_number = options.file_number;
  props_.compression = static_cast<std::uint64_t>(options.compression.type);
  props_.creation_time = options.creation_time != 0
                             ? options.creation_time
                             : static_cast<std::uint64_t>(std::time(nullptr));
}

Status TableBuilder::fail(Status s) {
  if (status_ && !s) status_ = s;
  return s;
}

Status TableBuilder::add(std::string_view key, std::string_view value) {
  if (!status_) return status_;
  if (closed_) return Status::invalid_argument("table builder: add after finish or abandon");
  ParsedInternalKey parsed;
  if (!parse_internal_key(key, parsed)) {
    return Status::invalid_argument("table builder: malformed internal key");
  }
  if (props_.num_entries > 0 && compare_internal_keys(key, last_key_) <= 0) {
    return Status::invalid_argument("table builder: key out of order");
  }
  while (!data_block_.empty() && data_block_.size_after(key, value) > estimator_.raw_size_limit()) {
    if (Status s = emit_data_block(); !s) return s;
  }
  if (pending_handle_) {
    if (Status s = add_index_entry(shortest_separator(pending_last_key_, key), *pending_handle_);
        !s) {
      return s;
    }
    pending_handle_.reset();
  }
  if (Status s = data_block_.add(key, value); !s) return fail(s);

  if (options_.use_filter) filter_.add_user_key(parsed.user_key);
  if (props_.num_entries == 0) {
    props_.smallest_key = key;
    props_.smallest_sequence = parsed.sequence;
  }
  props_.smallest_sequence = std::min(props_.smallest_sequence, parsed.sequence);
  props_.largest_sequence = std::max(props_.largest_sequence, parsed.sequence);
  props_.num_entries++;
  if (parsed.type == ValueType::kDeletion) props_.num_deletions++;
  props_.raw_key_size += key.size();
  props_.raw_value_size += value.size();
  last_key_.assign(key);
  return Status::ok();
}

// Emits one page-fitted block. When the block gave entries back, the next block's first
// key is not at hand, so the separator is the emitted block's last key itself.
Status TableBuilder::emit_data_block() {
  std::uint64_t offset = writer_.offset();
  stored_.clear();
  EmittedBlock e = emit_page_block(data_block_, compressor_, estimator_, options_.file_number,
                                   offset, stored_);
  if (Status s = writer_.append(stored_); !s) return fail(s);
  props_.num_data_blocks++;
  if (e.info.type != CompressionType::kNone) props_.num_compressed_blocks++;
  BlockHandle handle{offset, e.info.stored_size};
  if (!data_block_.empty()) return add_index_entry(e.last_key, handle);
  pending_handle_ = handle;
  pending_last_key_ = std::move(e.last_key);
  return Status::ok();
}

Status TableBuilder::add_index_entry(std::string_view separator, const BlockHandle& handle) {
  std::string value;
  encode_block_handle(value, handle);
  if (!index_block_.empty() && !index_block_.fits(separator, value)) finish_index_partition();
  return fail(index_block_.add(separator, value));
}

void TableBuilder::finish_index_partition() {
  Partition p;
  p.last_key = index_block_.last_key();
  p.raw = index_block_.finish();
  partitions_.push_back(std::move(p));
  index_block_.reset();
}

Result<BlockHandle> TableBuilder::write_meta_block(std::string_view raw) {
  BlockHandle handle{writer_.offset(), 0};
  stored_.clear();
  handle.stored_size =
      meta_compressor_.compress(raw, options_.file_number, handle.offset, stored_).stored_size;
  if (Status s = writer_.append(stored_); !s) return fail(s);
  return handle;
}

// Writes the index partitions, then the top index over them (kept in footer order).
Status TableBuilder::write_index() {
  if (!index_block_.empty()) finish_index_partition();
  BlockBuilder top(index_block_options(kMaxBlockSize));
  std::uint64_t start = writer_.offset();
  for (const Partition& p : partitions_) {
    auto handle = write_meta_block(p.raw);
    if (!handle) return handle.error();
    std::string value;
    encode_block_handle(value, *handle);
    if (Status s = top.add(p.last_key, value); !s) {
      return fail(Status::invalid_argument("table builder: top index over 32 KiB (table too large)"));
    }
  }
  props_.num_index_partitions = partitions_.size();
  partitions_.clear();
  auto top_handle = write_meta_block(top.finish());
  if (!top_handle) return top_handle.error();
  props_.index_size = writer_.offset() - start;
  footer_top_index_ = *top_handle;
  return Status::ok();
}

Status TableBuilder::write_footer(const Footer& footer) {
  std::string page(kFooterSize, '\0');
  encode_footer(footer, options_.file_number, writer_.offset(), page.data());
  return fail(writer_.append(page));
}

Result<TableProperties> TableBuilder::finish() {
  if (!status_) return status_;
  if (closed_) return Status::invalid_argument("table builder: finish after finish or abandon");
  closed_ = true;
  while (!data_block_.empty()) {
    if (Status s = emit_data_block(); !s) return s;
  }
  if (pending_handle_) {
    if (Status s = add_index_entry(pending_last_key_, *pending_handle_); !s) return s;
  }
  props_.data_size = writer_.offset();
  if (Status s = write_index(); !s) return s;

  Footer footer;
  footer.top_index = footer_top_index_;
  if (options_.use_filter) {
    std::uint64_t start = writer_.offset();
    auto handle = write_meta_block(filter_.finish(options_.pause));
    if (!handle) return handle.error();
    footer.filter = *handle;
    props_.filter_size = writer_.offset() - start;
  }
  props_.largest_key = last_key_;
  auto props_handle = write_meta_block(encode_properties(props_));
  if (!props_handle) return props_handle.error();
  footer.properties = *props_handle;
  if (Status s = write_footer(footer); !s) return s;
  if (Status s = writer_.finish(); !s) return fail(s);
  if (Status s = file_.sync(); !s) return fail(s);
  props_.file_size = writer_.offset();
  return props_;
}

std::uint64_t TableBuilder::estimated_file_size() const {
  return writer_.offset() + data_block_.current_size() +
         (partitions_.size() + 1) * kPageSize;
}

}  // namespace cascade::engine
