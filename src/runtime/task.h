// Task: a move-only, type-erased `void()` callable, the unit of work a cross-shard message
// carries.
//
// Why not std::function: it must be copyable (so a lambda that owns a Promise cannot go in
// it) and it allocates for any capture larger than two pointers. A message is built and
// destroyed once per cross-shard call, so a heap allocation per message would dominate the
// cost of the call. Task keeps callables of up to kInlineBytes (aligned to at most
// alignof(std::max_align_t), nothrow-movable) in place; larger ones go to the heap, once.
// sizeof(Task) is one 64-byte cache line, so a queue slot holding a Task is one line.
//
// A Task is run at most once per construction by whoever pops it; running an empty Task is a
// programming error. Not thread-safe: a Task is moved between threads only through a queue
// whose memory ordering publishes its bytes (see spsc_queue.h, mpsc_queue.h).
#pragma once

#include <cassert>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace cascade::runtime {

class Task {
 public:
  static constexpr std::size_t kInlineBytes = 48;

  Task() noexcept = default;

  template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Task> && std::is_invocable_v<std::decay_t<F>&>)
  Task(F&& fn) {  // NOLINT: implicit, so a lambda converts where a Task is expected
    using Fn = std::decay_t<F>;
    if constexpr (stored_inline<Fn>()) {
      ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(fn));
      ops_ = &kInlineOps<Fn>;
    } else {
      ::new (static_cast<void*>(storage_)) Fn*(new Fn(std::forward<F>(fn)));
      ops_ = &kHeapOps<Fn>;
    }
  }

  Task(Task&& other) noexcept { take(other); }
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  void operator()() {
    assert(ops_ != nullptr);
    ops_->invoke(storage_);
  }

  // Destroys the held callable (and whatever it captured); the Task becomes empty.
  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

  // True if a callable of type F is stored without a heap allocation.
  template <typename F>
  static constexpr bool stored_inline() {
    return sizeof(F) <= kInlineBytes && alignof(F) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<F>;
  }

 private:
  struct Ops {
    void (*invoke)(void* storage);
    // Move-constructs into dst from src and destroys src: one indirect call per move.
    void (*relocate)(void* dst, void* src) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <typename Fn>
  static constexpr Ops kInlineOps = {
      [](void* s) { (*std::launder(static_cast<Fn*>(s)))(); },
      [](void* dst, void* src) noexcept {
        Fn* from = std::launder(static_cast<Fn*>(src));
        ::new (dst) Fn(std::move(*from));
        from->~Fn();
      },
      [](void* s) noexcept { std::launder(static_cast<Fn*>(s))->~Fn(); },
  };

  template <typename Fn>
  static constexpr Ops kHeapOps = {
      [](void* s) { (**std::launder(static_cast<Fn**>(s)))(); },
      [](void* dst, void* src) noexcept { ::new (dst) Fn*(*std::launder(static_cast<Fn**>(src))); },
      [](void* s) noexcept { delete *std::launder(static_cast<Fn**>(s)); },
  };

  void take(Task& other) noexcept {
    ops_ = other.ops_;
    if (ops_ != nullptr) {
      ops_->relocate(storage_, other.storage_);
      other.ops_ = nullptr;
    }
  }

  const Ops* ops_ = nullptr;
  alignas(std::max_align_t) unsigned char storage_[kInlineBytes];
};

static_assert(sizeof(Task) == 64, "a Task is meant to fill exactly one cache line");

}  // namespace cascade::runtime
