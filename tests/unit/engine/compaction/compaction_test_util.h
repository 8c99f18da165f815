// Test support for the compaction tests: readable entry descriptions, a fake value log
// implementing the value hooks, a prefix-matching compaction filter, and versions built
// from hand-made tables.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/compaction/compaction_filter.h"
#include "engine/compaction/compaction_value_hooks.h"
#include "engine/version/version.h"

namespace cascade::engine::compaction_test {

// "key@seq=value", "key@seq-" for a tombstone, "key@seq*=value" for a value pointer.
inline std::string describe(std::string_view ikey, std::string_view value) {
  ParsedInternalKey k;
  if (!parse_internal_key(ikey, k)) return "<malformed>";
  std::string s = std::string(k.user_key) + "@" + std::to_string(k.sequence);
  if (k.type == ValueType::kDeletion) return s + "-";
  if (k.type == ValueType::kValuePointer) s += "*";
  return s + "=" + std::string(value);
}

// Like describe() without the sequence, which the value hooks are not given.
inline std::string describe(std::string_view user_key, ValueType type, std::string_view value) {
  std::string s(user_key);
  if (type == ValueType::kDeletion) return s + "-";
  if (type == ValueType::kValuePointer) s += "*";
  return s + "=" + std::string(value);
}

// Records what compaction reports; relocates pointers whose value starts with
// relocate_prefix to "moved:" + the rest; adds vlog garbage to the edit at finish.
class FakeValueLog final : public CompactionValueHooks {
 public:
  std::vector<std::string> dropped;
  std::vector<std::string> relocated;  // every relocate() call: "key=value"
  std::string relocate_prefix = "\x01never";
  bool fail_relocation = false;
  int finished_jobs = 0;
  std::uint64_t garbage_file = 0;  // non-zero: finish() counts one byte per drop there

  std::unique_ptr<CompactionValueHandler> start_job(const Compaction&) override {
    return std::make_unique<Handler>(*this);
  }

 private:
  class Handler final : public CompactionValueHandler {
   public:
    explicit Handler(FakeValueLog& log) : log_(log) {}
    void dropped(std::string_view user_key, ValueType type, std::string_view value) override {
      log_.dropped.push_back(describe(user_key, type, value));
      ++drops_;
    }
    Result<std::optional<std::string>> relocate(std::string_view user_key,
                                                std::string_view value) override {
      log_.relocated.push_back(std::string(user_key) + "=" + std::string(value));
      if (log_.fail_relocation) return Status::io_error("fake value log: relocation failed");
      if (!value.starts_with(log_.relocate_prefix)) return std::optional<std::string>();
      return std::optional<std::string>("moved:" +
                                        std::string(value.substr(log_.relocate_prefix.size())));
    }
    Status finish(VersionEdit& edit) override {
      ++log_.finished_jobs;
      if (log_.garbage_file != 0 && drops_ > 0) edit.add_vlog_garbage(log_.garbage_file, drops_);
      return Status::ok();
    }

   private:
    FakeValueLog& log_;
    std::uint64_t drops_ = 0;
  };
};

// Drops every value starting with `prefix`; records what it was asked ("key=value").
class DropValuesStartingWith final : public CompactionFilter {
 public:
  explicit DropValuesStartingWith(std::string prefix) : prefix_(std::move(prefix)) {}
  mutable std::vector<std::string> asked;

  Decision filter(int, std::string_view user_key, ValueType,
                  std::string_view value) const override {
    asked.push_back(std::string(user_key) + "=" + std::string(value));
    return value.starts_with(prefix_) ? Decision::kDrop : Decision::kKeep;
  }

 private:
  std::string prefix_;
};

struct VersionBuilder {
  std::shared_ptr<const Version> version = std::make_shared<Version>();
  void add(int level, const TableFile& t) {
    VersionEdit e;
    e.add_table(level, t);
    auto next = apply_edit(*version, e);
    REQUIRE_MESSAGE(next, next.status().to_string());
    version = *next;
  }
};

}  // namespace cascade::engine::compaction_test
