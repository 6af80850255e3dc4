#include "crawler/url_set.h"

#include <algorithm>

namespace fanout {

uint64_t UrlSet::Fingerprint(std::string_view url) {
  // FNV-1a over the bytes, then a final mix (splitmix64) so that similar URLs spread over the table.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : url) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

bool UrlSet::contains(uint64_t f) const {
  if (slots_.empty()) return false;
  const size_t mask = slots_.size() - 1;
  for (size_t i = f & mask;; i = (i + 1) & mask) {
    if (slots_[i] == 0) return false;
    if (slots_[i] == f) return true;
  }
}

bool UrlSet::insert(uint64_t f) {
  if (2 * (size_ + 1) > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = f & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return false;
    if (slots_[i] == 0) {
      slots_[i] = f;
      ++size_;
      return true;
    }
  }
}

void UrlSet::clear() {
  std::fill(slots_.begin(), slots_.end(), 0);
  size_ = 0;
}

void UrlSet::Grow() {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : 2 * old.size(), 0);
  const size_t mask = slots_.size() - 1;
  for (uint64_t f : old) {
    if (f == 0) continue;
    size_t i = f & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = f;
  }
}

}  // namespace fanout
