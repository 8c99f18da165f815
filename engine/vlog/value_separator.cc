#include "engine/vlog/value_separator.h"

#include <algorithm>

#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

ValueSeparator::ValueSeparator(runtime::FileSystem& fs, std::string dir,
                               const ValueSeparatorOptions& options,
                               std::function<std::uint64_t()> new_file_number)
    : fs_(fs), dir_(std::move(dir)), options_(options),
      new_file_number_(std::move(new_file_number)) {}

ValueSeparator::~ValueSeparator() {
  if (!done_) abandon();
}

Status ValueSeparator::open_file() {
  std::uint64_t number = new_file_number_();
  runtime::OpenOptions create = runtime::OpenOptions::read_write_create();
  create.direct = true;
  create.truncate = true;  // a leftover of a crashed flush may carry this number
  created_.push_back(number);
  auto file = fs_.open(path_join(dir_, vlog_file_name(number)), create);
  if (!file) return file.error();
  file_ = std::move(*file);
  writer_ = std::make_unique<VlogWriter>(*file_, number, options_.compression,
                                         kVlogWriteChunkSize, options_.compression_stats);
  record_bytes_ = 0;
  return Status::ok();
}

Status ValueSeparator::finish_file() {
  auto size = writer_->finish();
  Status closed = file_->close();
  if (!size) return size.error();
  if (!closed) return closed;
  VlogFile f;
  f.file_number = writer_->file_number();
  f.file_size = *size;
  f.garbage_bytes = *size - record_bytes_;  // header, padding and footer are never live
  finished_.push_back(f);
  bytes_written_ += *size;
  writer_.reset();
  file_.reset();
  return Status::ok();
}

Status ValueSeparator::make_room() {
  if (writer_ && writer_->estimated_file_size() >= options_.vlog_file_size) {
    if (Status s = finish_file(); !s) return s;
  }
  if (!writer_) return open_file();
  return Status::ok();
}

Result<ValuePointer> ValueSeparator::add(std::string_view user_key, std::string_view value) {
  if (reserved_bytes_ > 0) return Status::invalid_argument("value log: add over a reservation");
  if (Status s = make_room(); !s) return s;
  auto pointer = writer_->add(user_key, value);
  if (!pointer) return pointer;
  record_bytes_ += pointer->size;
  pointer->head.assign(value.substr(0, std::min(options_.value_head_size, kMaxValueHeadSize)));
  return pointer;
}

Result<std::optional<ValuePointer>> ValueSeparator::reserve(std::uint64_t size) {
  if (writer_ && reserved_bytes_ > 0 &&
      runtime::align_up(writer_->offset() + reserved_bytes_) + kPageSize >=
          options_.vlog_file_size) {
    return std::optional<ValuePointer>();  // rolling would leave reservations behind
  }
  if (Status s = make_room(); !s) return s;
  ValuePointer at{writer_->file_number(), writer_->offset() + reserved_bytes_, size, {}};
  reserved_bytes_ += size;
  return std::optional<ValuePointer>(std::move(at));
}

Status ValueSeparator::fill_reserved(const VlogRecord& record, const ValuePointer& at) {
  if (!writer_ || at.file_number != writer_->file_number() || at.offset != writer_->offset() ||
      at.size > reserved_bytes_) {
    return Status::invalid_argument("value log: reservation filled out of order");
  }
  if (record.record_size != at.size) {  // checked before writing: offsets stay right
    return Status::corruption("value log: relocated record " + std::to_string(at.file_number) +
                              "@" + std::to_string(at.offset) + " changes size");
  }
  auto pointer =
      writer_->add_stored(record.key, record.compression, record.value_size, record.stored_value);
  if (!pointer) return pointer.error();
  if (pointer->size != at.size) {  // the same fields encode to the same size
    return Status::corruption("value log: relocated record " + std::to_string(at.file_number) +
                              "@" + std::to_string(at.offset) + " changed size");
  }
  reserved_bytes_ -= at.size;
  record_bytes_ += at.size;
  return Status::ok();
}

Result<std::vector<VlogFile>> ValueSeparator::finish() {
  if (reserved_bytes_ > 0) {
    return Status::invalid_argument("value log: finished with reservations unfilled");
  }
  if (writer_) {
    if (Status s = finish_file(); !s) return s;
  }
  done_ = true;
  return finished_;
}

void ValueSeparator::abandon() {
  done_ = true;
  writer_.reset();  // joins its write in flight before the file closes
  if (file_) (void)file_->close();
  file_.reset();
  for (std::uint64_t n : created_) (void)fs_.remove(path_join(dir_, vlog_file_name(n)));
}

}  // namespace cascade::engine
