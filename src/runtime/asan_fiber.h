// Tells AddressSanitizer about fiber stack switches, so a sanitizer build (meson
// -Db_sanitize=address,undefined) checks fiber code instead of reporting false stack
// overflows. Every switch is bracketed: start_switch() on the old stack naming the stack
// being entered, finish_switch() first thing on the new stack. Passing a null save slot to
// start_switch() says the stack being left is dead (a finished fiber). Without ASan these
// compile to nothing.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define CASCADE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CASCADE_ASAN 1
#endif
#endif

#ifdef CASCADE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace cascade::runtime::asan {

struct StackBounds {
  const void* bottom = nullptr;
  std::size_t size = 0;
};

#ifdef CASCADE_ASAN
inline void start_switch(void** fake_stack_save, const StackBounds& to) {
  __sanitizer_start_switch_fiber(fake_stack_save, to.bottom, to.size);
}
inline void finish_switch(void* fake_stack_save, StackBounds* from) {
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack_save, &bottom, &size);
  if (from) *from = StackBounds{bottom, size};
}
inline void unpoison(void* p, std::size_t n) { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
inline void start_switch(void**, const StackBounds&) {}
inline void finish_switch(void*, StackBounds*) {}
inline void unpoison(void*, std::size_t) {}
#endif

}  // namespace cascade::runtime::asan
