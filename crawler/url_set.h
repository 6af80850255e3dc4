// UrlSet: the set of URLs a crawl has seen, kept as 64-bit fingerprints in one flat table, so a
// crawl that meets millions of URLs holds 16 bytes or so for each instead of the URL itself.
//
// Two URLs with the same fingerprint count as one: with n URLs the chance that any such pair
// exists is about n^2 / 2^65 (3 in 100 million for a million URLs), and its cost is one page
// skipped as a duplicate. Open addressing with linear probing, at most half full.
//
// Threads: as a std::unordered_set; no locking.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace fanout {

class UrlSet {
 public:
  // True if `url` was not in the set (it is now).
  bool insert(std::string_view url) { return insert(Fingerprint(url)); }
  bool contains(std::string_view url) const { return contains(Fingerprint(url)); }
  size_t size() const { return size_; }
  void clear();  // keeps the table's size: a set that is emptied and filled again does not regrow
  size_t memory_bytes() const { return slots_.size() * sizeof(uint64_t); }

  // The same by fingerprint, for callers that need it more than once per URL. Never 0.
  static uint64_t Fingerprint(std::string_view url);
  bool insert(uint64_t fingerprint);
  bool contains(uint64_t fingerprint) const;

 private:
  void Grow();

  std::vector<uint64_t> slots_;  // 0 = empty; a fingerprint of 0 is stored as 1
  size_t size_ = 0;
};

}  // namespace fanout
