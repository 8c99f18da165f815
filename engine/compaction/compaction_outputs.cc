// Output tables of a compaction job (compaction_outputs.h).
#include "engine/compaction/compaction_outputs.h"

#include "engine/format/coding.h"
#include "engine/table_cache.h"
#include "engine/version/file_names.h"

namespace cascade::engine {

CompactionOutputs::~CompactionOutputs() {
  if (builder_) builder_->abandon();
  if (file_) (void)file_->close();
}

bool CompactionOutputs::should_cut_before(std::string_view user_key) {
  // Grandparent tables entirely before this key were spanned by the current output.
  while (grandparent_index_ < grandparents_.size() &&
         user_key > grandparents_[grandparent_index_]->largest_user_key()) {
    if (seen_key_) grandparent_overlap_ += grandparents_[grandparent_index_]->file_size;
    ++grandparent_index_;
  }
  seen_key_ = true;
  if (!builder_) return false;
  if (grandparent_overlap_ > options_.max_grandparent_overlap) {
    grandparent_overlap_ = 0;
    return true;
  }
  return builder_->estimated_file_size() >= options_.target_file_size;
}

Status CompactionOutputs::add(std::string_view internal_key, std::string_view value) {
  std::string_view user_key = extract_user_key(internal_key);
  if (!builder_ || user_key != last_user_key_) {
    if (should_cut_before(user_key)) {
      if (Status s = finish_table(); !s) return s;
    }
    last_user_key_.assign(user_key);
  }
  if (!builder_) {
    if (Status s = open_table(); !s) return s;
  }
  note_value_pointer(internal_key, value);
  return builder_->add(internal_key, value);
}

// A pointer's first field is its file number (vlog/value_pointer.h); a malformed one is
// the compaction's input damage, caught where the value is read, so it is skipped here.
void CompactionOutputs::note_value_pointer(std::string_view internal_key,
                                           std::string_view value) {
  if (internal_key.size() < 8 ||
      static_cast<ValueType>(internal_key[internal_key.size() - 8]) != ValueType::kValuePointer) {
    return;
  }
  std::uint64_t file_number = 0;
  if (!get_varint64(value, file_number) || file_number == 0) return;
  if (oldest_vlog_ == 0 || file_number < oldest_vlog_) oldest_vlog_ = file_number;
}

Status CompactionOutputs::open_table() {
  file_number_ = options_.new_file_number();
  created_.push_back(file_number_);
  oldest_vlog_ = 0;
  runtime::OpenOptions create = runtime::OpenOptions::read_write_create();
  create.direct = true;
  create.truncate = true;
  auto file = fs_.open(path_join(options_.dir, table_file_name(file_number_)), create);
  if (!file) return file.error();
  file_ = std::make_unique<ThrottledFile>(std::move(*file), options_.rate_limiter, counters_);
  TableBuilderOptions builder_options = options_.builder;
  builder_options.file_number = file_number_;
  builder_ = std::make_unique<TableBuilder>(*file_, builder_options);
  return Status::ok();
}

Status CompactionOutputs::finish_table() {
  Result<TableProperties> props = builder_->finish();
  blocks_done_ += builder_->num_data_blocks();
  builder_.reset();
  Status closed = file_->close();
  file_.reset();
  if (!props) return props.error();
  if (!closed) return closed;
  TableFile t;
  t.file_number = file_number_;
  t.file_size = props->file_size;
  t.smallest = props->smallest_key;
  t.largest = props->largest_key;
  t.smallest_sequence = props->smallest_sequence;
  t.largest_sequence = props->largest_sequence;
  t.oldest_vlog = oldest_vlog_;
  tables_.push_back(std::move(t));
  return Status::ok();
}

Status CompactionOutputs::finish() {
  if (!builder_) return Status::ok();
  return finish_table();
}

void CompactionOutputs::abandon() {
  if (builder_) builder_->abandon();
  builder_.reset();
  if (file_) (void)file_->close();
  file_.reset();
  for (std::uint64_t n : created_) {
    (void)fs_.remove(path_join(options_.dir, table_file_name(n)));
  }
  created_.clear();
  tables_.clear();
}

}  // namespace cascade::engine
