// ReplyBuffer: segment bookkeeping; the stream model is described in reply_buffer.h.
#include "resp/reply_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace cascade::resp {

ReplyBuffer::ReplyBuffer(std::size_t initial_capacity)
    : initial_capacity_(std::max<std::size_t>(initial_capacity, 64)) {}

void ReplyBuffer::append(std::string_view bytes) {
  std::memcpy(reserve(bytes.size()), bytes.data(), bytes.size());
  commit(bytes.size());
}

void ReplyBuffer::grow(std::size_t n) {
  const std::size_t capacity = std::max({capacity_ * 2, size_ + n, initial_capacity_});
  auto fresh = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
  data_ = std::move(fresh);
  capacity_ = capacity;
}

void ReplyBuffer::close_owned_segment() {
  if (size_ > open_start_) {
    Segment s{};
    s.kind = Kind::kOwned;
    s.offset = open_start_;
    s.length = size_ - open_start_;
    segments_.push_back(s);
  }
  open_start_ = size_;
}

void ReplyBuffer::append_reference(std::string_view payload) {
  if (payload.empty()) return;
  close_owned_segment();
  Segment s{};
  s.kind = Kind::kReferenced;
  s.external = payload.data();
  s.length = payload.size();
  segments_.push_back(s);
  total_ += payload.size();
}

void ReplyBuffer::append_owned(std::string&& payload) {
  if (payload.empty()) return;
  owned_payloads_.push_back(std::move(payload));
  append_reference(owned_payloads_.back());
}

std::size_t ReplyBuffer::append_placeholder() {
  close_owned_segment();
  Segment s{};
  s.kind = Kind::kPlaceholder;
  segments_.push_back(s);
  return segments_.size() - 1;
}

void ReplyBuffer::fill_placeholder(std::size_t id, std::string_view bytes) {
  assert(id < segments_.size() && segments_[id].kind == Kind::kPlaceholder);
  assert(bytes.size() <= kMaxPlaceholderBytes && segments_[id].inline_length == 0);
  Segment& s = segments_[id];
  std::memcpy(s.inline_bytes, bytes.data(), bytes.size());
  s.inline_length = static_cast<std::uint8_t>(bytes.size());
  total_ += bytes.size();
}

iovec ReplyBuffer::segment_bytes(const Segment& s) const {
  switch (s.kind) {
    case Kind::kOwned:
      return {data_.get() + s.offset, s.length};
    case Kind::kReferenced:
      return {const_cast<char*>(s.external), s.length};
    case Kind::kPlaceholder:
      return {const_cast<char*>(s.inline_bytes), s.inline_length};
  }
  return {nullptr, 0};
}

std::string_view ReplyBuffer::view() const {
  assert(contiguous());
  return {data_.get() + head_skip_, size_ - head_skip_};
}

std::size_t ReplyBuffer::gather(std::span<iovec> out) const {
  std::size_t used = 0;
  std::size_t skip = head_skip_;
  for (std::size_t i = head_segment_; i < segments_.size() && used < out.size(); ++i) {
    iovec v = segment_bytes(segments_[i]);
    v.iov_base = static_cast<char*>(v.iov_base) + skip;
    v.iov_len -= skip;
    skip = 0;
    if (v.iov_len > 0) out[used++] = v;
  }
  // skip is still head_skip_ only when the head is in the open owned bytes.
  const std::size_t open_from = open_start_ + skip;
  if (used < out.size() && size_ > open_from) {
    out[used++] = {data_.get() + open_from, size_ - open_from};
  }
  return used;
}

std::size_t ReplyBuffer::segment_count() const {
  std::size_t n = segments_.size() - head_segment_;
  if (size_ > open_start_) ++n;
  return n;
}

void ReplyBuffer::consume(std::size_t n) {
  assert(n <= size());
  consumed_ += n;
  if (consumed_ == total_) {
    clear();
    return;
  }
  while (n > 0 && head_segment_ < segments_.size()) {
    const std::size_t left = segment_bytes(segments_[head_segment_]).iov_len - head_skip_;
    if (n < left) {
      head_skip_ += n;
      return;
    }
    n -= left;
    ++head_segment_;
    head_skip_ = 0;
  }
  head_skip_ += n;  // within the open owned bytes
}

void ReplyBuffer::clear() {
  size_ = 0;
  open_start_ = 0;
  total_ = 0;
  consumed_ = 0;
  head_segment_ = 0;
  head_skip_ = 0;
  segments_.clear();
  owned_payloads_.clear();
}

std::string ReplyBuffer::to_string() const {
  std::string out;
  out.reserve(size());
  std::vector<iovec> iov(segment_count() + 1);
  const std::size_t used = gather(iov);
  for (std::size_t i = 0; i < used; ++i) {
    out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  return out;
}

void ReplyBuffer::release() {
  clear();
  data_.reset();
  capacity_ = 0;
}

}  // namespace cascade::resp
