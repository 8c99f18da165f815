// CrashPointFileSystem: a FileSystem over a FaultFileSystem that crashes it at the n-th
// mutating call (write, sync, allocate, truncate, create, rename, remove, link, make_dir,
// sync_dir) and fails that call and every later one, so the code under test stops at
// exactly that point, as a dead process would. Sweeping n over every call of a workload
// crashes it at every point. Reads are forwarded without counting.
#pragma once

#include <memory>
#include <string>

#include "tests/support/fault_file_system.h"

namespace cascade::engine::testing {

class CrashPointFileSystem final : public runtime::FileSystem {
 public:
  CrashPointFileSystem(test_support::FaultFileSystem& inner, std::uint64_t crash_at,
                       test_support::CrashOptions options)
      : state_(std::make_shared<State>(State{inner, crash_at, options})) {}

  bool crashed() const { return state_->dead; }
  std::uint64_t mutations() const { return state_->mutations; }

  Result<std::unique_ptr<runtime::FileHandle>> open(const std::string& path,
                                                    const runtime::OpenOptions& o) override {
    if (o.create || o.truncate) {
      if (Status s = state_->step(); !s) return s;
    } else if (state_->dead) {
      return State::dead_error();
    }
    auto file = state_->inner.open(path, o);
    if (!file) return file.error();
    return std::unique_ptr<runtime::FileHandle>(new Handle(state_, std::move(*file)));
  }
  Status rename(const std::string& from, const std::string& to) override {
    if (Status s = state_->step(); !s) return s;
    return state_->inner.rename(from, to);
  }
  Status remove(const std::string& path) override {
    if (Status s = state_->step(); !s) return s;
    return state_->inner.remove(path);
  }
  Status link(const std::string& existing, const std::string& new_path) override {
    if (Status s = state_->step(); !s) return s;
    return state_->inner.link(existing, new_path);
  }
  Status make_dir(const std::string& path) override {
    if (Status s = state_->step(); !s) return s;
    return state_->inner.make_dir(path);
  }
  Status remove_dir(const std::string& path) override {
    if (Status s = state_->step(); !s) return s;
    return state_->inner.remove_dir(path);
  }
  Status sync_dir(const std::string& path) override {
    if (Status s = state_->step(); !s) return s;
    return state_->inner.sync_dir(path);
  }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    if (state_->dead) return State::dead_error();
    return state_->inner.list_dir(path);
  }
  Result<bool> exists(const std::string& path) override {
    if (state_->dead) return State::dead_error();
    return state_->inner.exists(path);
  }

 private:
  struct State {
    test_support::FaultFileSystem& inner;
    std::uint64_t crash_at;
    test_support::CrashOptions options;
    std::uint64_t mutations = 0;
    bool dead = false;

    static Status dead_error() { return Status::io_error("crashed"); }
    // Counts one mutating call; the crash_at-th one crashes the file system instead.
    Status step() {
      if (dead) return dead_error();
      if (mutations++ == crash_at) {
        inner.simulate_crash(options);
        dead = true;
        return dead_error();
      }
      return Status::ok();
    }
  };

  class Handle final : public runtime::FileHandle {
   public:
    Handle(std::shared_ptr<State> state, std::unique_ptr<runtime::FileHandle> inner)
        : state_(std::move(state)), inner_(std::move(inner)) {}
    std::uint32_t read_alignment() const override { return inner_->read_alignment(); }
    Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
      if (state_->dead) return State::dead_error();
      return inner_->read_at(offset, buffer);
    }
    Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
      if (Status s = state_->step(); !s) return s;
      return inner_->write_at(offset, data);
    }
    Status sync() override {
      if (Status s = state_->step(); !s) return s;
      return inner_->sync();
    }
    Status allocate(std::uint64_t offset, std::uint64_t length) override {
      if (Status s = state_->step(); !s) return s;
      return inner_->allocate(offset, length);
    }
    Status truncate(std::uint64_t size) override {
      if (Status s = state_->step(); !s) return s;
      return inner_->truncate(size);
    }
    Result<std::uint64_t> size() override {
      if (state_->dead) return State::dead_error();
      return inner_->size();
    }
    Status close() override { return inner_->close(); }
    const std::string& path() const override { return inner_->path(); }

   private:
    std::shared_ptr<State> state_;
    std::unique_ptr<runtime::FileHandle> inner_;
  };

  std::shared_ptr<State> state_;
};

}  // namespace cascade::engine::testing
