// Fiber stacks, pooled per size class.
//
// A stack is one private anonymous mapping. Pages are touched only as a fiber uses them, so
// a connection fiber that never goes deep costs a few KiB of resident memory however large
// its mapping. Freed stacks go back to a per-class free list (bounded) instead of munmap,
// so spawning a fiber costs no syscall in steady state. With CASCADE_STACK_GUARD (debug
// builds) the lowest page of every stack is PROT_NONE, so an overflow faults at once
// instead of corrupting the neighbouring mapping.
//
// Concurrency: a StackPool belongs to one shard thread; nothing here is thread-safe.
#pragma once

#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <vector>

namespace cascade::runtime {

enum class StackSize : unsigned char {
  kSmall,  // connection and message fibers
  kLarge,  // calls that need depth: compression, sorting large replies
};

struct StackPoolOptions {
  std::size_t small_bytes = 64 * 1024;
  std::size_t large_bytes = 1024 * 1024;
  std::size_t max_cached_small = 4096;  // free stacks kept for reuse per class
  std::size_t max_cached_large = 16;
};

class StackPool {
 public:
  explicit StackPool(StackPoolOptions options = {});
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context allocate(StackSize size);
  void deallocate(StackSize size, boost::context::stack_context& sc);

  std::size_t mapped_stacks() const { return mapped_; }
  std::size_t cached_stacks() const { return free_[0].size() + free_[1].size(); }

 private:
  std::size_t bytes_for(StackSize size) const;

  StackPoolOptions options_;
  std::vector<boost::context::stack_context> free_[2];
  std::size_t mapped_ = 0;
};

// The StackAllocator concept boost::context::fiber expects, bound to one pool and class.
// `allocated`, if given, receives the stack handed out (the scheduler needs its bounds
// for sanitizer annotations).
class PooledStack {
 public:
  PooledStack(StackPool& pool, StackSize size, boost::context::stack_context* allocated = nullptr)
      : pool_(&pool), size_(size), allocated_(allocated) {}
  boost::context::stack_context allocate() {
    boost::context::stack_context sc = pool_->allocate(size_);
    if (allocated_) *allocated_ = sc;
    return sc;
  }
  void deallocate(boost::context::stack_context& sc) noexcept { pool_->deallocate(size_, sc); }

 private:
  StackPool* pool_;
  StackSize size_;
  boost::context::stack_context* allocated_;
};

}  // namespace cascade::runtime
