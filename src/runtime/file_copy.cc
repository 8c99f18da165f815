// See file_copy.h.
#include "src/runtime/file_copy.h"

#include <cerrno>
#include <span>
#include <vector>

namespace cascade::runtime {
namespace {

constexpr std::size_t kCopyChunk = std::size_t{1} << 20;

Status copy_contents(FileHandle& in, FileHandle& out, std::uint64_t& copied) {
  std::vector<std::byte> buffer(kCopyChunk);  // heap: fiber stacks are small
  for (;;) {
    auto n = in.read_at(copied, buffer);
    if (!n) return n.error();
    if (*n == 0) return out.sync();
    if (Status s = out.write_at(copied, std::span(buffer.data(), *n)); !s) return s;
    copied += *n;
  }
}

}  // namespace

Result<std::uint64_t> copy_file(FileSystem& fs, const std::string& from, const std::string& to) {
  auto in = fs.open(from, OpenOptions::read_only());
  if (!in) return in.error();
  OpenOptions create;
  create.access = OpenOptions::Access::kWrite;
  create.create = true;
  create.exclusive = true;
  auto out = fs.open(to, create);
  if (!out) {
    (void)(*in)->close();  // read-only: nothing to lose
    return out.error();
  }
  std::uint64_t copied = 0;
  Status s = copy_contents(**in, **out, copied);
  (void)(*in)->close();
  Status closed = (*out)->close();
  if (s) s = closed;
  if (!s) {
    (void)fs.remove(to);
    return s;
  }
  return copied;
}

bool link_refused(const Status& s) {
  switch (s.sys_errno()) {
    case EXDEV:
    case EPERM:
    case EMLINK:
    case EOPNOTSUPP:
      return true;
    default:
      return false;
  }
}

}  // namespace cascade::runtime
