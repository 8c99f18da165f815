// Value-log garbage accounting and relocation inside compaction jobs (vlog_gc.h).
#include "engine/vlog/vlog_gc.h"

#include <optional>
#include <set>

#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "engine/vlog/vlog_garbage.h"

namespace cascade::engine {

class VlogGc::Handler final : public CompactionValueHandler {
 public:
  Handler(VlogGc& gc, std::shared_ptr<const Version> version)
      : gc_(gc), version_(std::move(version)) {
    if (version_) picked_ = files_to_relocate(*version_, gc_.options_.relocation);
  }

  void dropped(std::string_view, ValueType type, std::string_view value) override {
    if (type != ValueType::kValuePointer) return;
    Status s = garbage_.pointer_dropped(value);
    if (!s && status_.is_ok()) status_ = s;  // reported by finish(): the job fails
  }

  Result<std::optional<std::string>> relocate(std::string_view user_key,
                                              std::string_view value) override {
    if (picked_.empty()) return std::optional<std::string>();
    auto pointer = ValuePointer::decode(value);
    if (!pointer) return pointer.error();
    if (!picked_.contains(pointer->file_number)) return std::optional<std::string>();
    // The write is charged here, the reads by the relocator as it issues them.
    if (runtime::RateLimiter* limiter = gc_.options_.rate_limiter) limiter->acquire(pointer->size);
    if (!out_) {
      out_.emplace(gc_.fs_, gc_.dir_, gc_.options_.separator, gc_.new_file_number_);
      RelocatorOptions relocator;
      relocator_.emplace(gc_.log_, version_, *out_, relocator, gc_.options_.rate_limiter);
    }
    auto moved = relocator_->relocate(user_key, *pointer);
    if (!moved) return moved.error();
    garbage_.pointer_dropped(*pointer);
    return std::optional<std::string>(moved->encode());
  }

  Status finish(VersionEdit& edit) override {
    if (!status_) return status_;
    std::vector<VlogFile> written;
    if (relocator_) {
      if (Status s = relocator_->flush(); !s) return s;
    }
    if (out_) {
      auto files = out_->finish();
      if (!files) return files.error();  // out_ removes what it wrote
      written = std::move(*files);
    }
    auto emptied = garbage_.add_to_edit(edit, *gc_.current_());
    if (!emptied) {
      // out_ is finished and will not remove its files: nothing will name them.
      for (const VlogFile& v : written) {
        (void)gc_.fs_.remove(path_join(gc_.dir_, vlog_file_name(v.file_number)));
      }
      return emptied.error();
    }
    for (const VlogFile& v : written) edit.add_vlog(v);
    return Status::ok();
  }

 private:
  VlogGc& gc_;
  std::shared_ptr<const Version> version_;
  std::set<std::uint64_t> picked_;
  VlogGarbageTracker garbage_;
  std::optional<ValueSeparator> out_;  // destroyed unfinished: removes its files
  std::optional<VlogRelocator> relocator_;  // writes to out_: declared after it
  Status status_;
};

std::unique_ptr<CompactionValueHandler> VlogGc::start_job(const Compaction& c) {
  return std::make_unique<Handler>(*this, c.version);
}

}  // namespace cascade::engine
