// SeenFilter: whether the crawl has met a URL before, in about two bytes per URL.
//
// Two parts answer in memory. A Bloom filter says "certainly new" for a URL never inserted, which
// is the common case for a link to a page not yet met: it has no false negatives, and it grows by
// adding layers, each twice the last, so it costs bits_per_url bits per URL (10 bits: about 1% of
// new URLs look seen). An exact set of recent URLs (fingerprints, url_set.h), emptied when it
// holds recent_capacity, says "certainly seen" for the links a site repeats on every page (its
// navigation). When the Bloom filter says "maybe" and the URL is not recent, the answer is
// kUnsure: only the database knows (the frontier has the store decide; see frontier.h).
//
// A fingerprint collision makes two URLs one, as in UrlSet: about n^2 / 2^65 for n URLs.
//
// Threads: as a std::unordered_set; no locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "crawler/url_set.h"

namespace fanout {

struct SeenFilterOptions {
  size_t recent_capacity = size_t{1} << 17;  // URLs in the exact set at most (~2 MB)
  unsigned bits_per_url = 10;                 // the Bloom filter's size per URL; fewer: more kUnsure
  size_t first_layer = size_t{1} << 16;       // URLs the Bloom filter's first layer is sized for
};

class SeenFilter {
 public:
  enum class Answer { kNew, kSeen, kUnsure };

  explicit SeenFilter(SeenFilterOptions options = {});

  Answer Check(std::string_view url) const { return Check(UrlSet::Fingerprint(url)); }
  void Insert(std::string_view url) { Insert(UrlSet::Fingerprint(url)); }
  // The same by fingerprint (UrlSet::Fingerprint): a caller that checks and then inserts hashes once.
  Answer Check(uint64_t fingerprint) const;
  void Insert(uint64_t fingerprint);

  size_t memory_bytes() const;
  size_t layers() const { return layers_.size(); }

 private:
  struct Layer {
    std::vector<uint64_t> bits;  // a power of two of them
    size_t capacity = 0;         // URLs it was sized for
    size_t count = 0;            // URLs inserted
  };
  bool MayContain(uint64_t fingerprint) const;
  void AddLayer(size_t capacity);

  SeenFilterOptions options_;
  unsigned probes_ = 1;  // bits set per URL in a layer
  std::vector<Layer> layers_;
  UrlSet recent_;
};

}  // namespace fanout
