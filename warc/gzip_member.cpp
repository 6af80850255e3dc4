#include "warc/gzip_member.h"

#include <libdeflate.h>

#include <algorithm>
#include <new>

namespace fanout {

void GzipMemberWriter::Free::operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }

GzipMemberWriter::GzipMemberWriter(int level)
    : level_(std::clamp(level, 1, 9)), compressor_(libdeflate_alloc_compressor(level_)) {
  if (!compressor_) throw std::bad_alloc();  // libdeflate fails only when out of memory
}

void GzipMemberWriter::Append(std::string_view in, std::string& out) {
  const size_t start = out.size();
  const size_t bound = libdeflate_gzip_compress_bound(compressor_.get(), in.size());
  out.resize(start + bound);
  const size_t written = libdeflate_gzip_compress(compressor_.get(), in.data(), in.size(), out.data() + start, bound);
  // The bound is libdeflate's guarantee, so 0 (did not fit) cannot happen.
  out.resize(start + written);
}

}  // namespace fanout
