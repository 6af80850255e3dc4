#include "crawler/seen_filter.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace fanout {
namespace {

// A second hash from the fingerprint (splitmix64's finaliser), odd so that the probe sequence
// h1 + i * h2 visits distinct bits (Kirsch and Mitzenmacher's double hashing).
uint64_t Step(uint64_t f) {
  f ^= f >> 33;
  f *= 0xff51afd7ed558ccdULL;
  f ^= f >> 33;
  return f | 1;
}

}  // namespace

SeenFilter::SeenFilter(SeenFilterOptions options) : options_(options) {
  options_.bits_per_url = std::max(1u, options_.bits_per_url);
  options_.first_layer = std::max<size_t>(1, options_.first_layer);
  options_.recent_capacity = std::max<size_t>(1, options_.recent_capacity);
  // k = (m / n) ln 2 minimises false positives for m bits and n URLs.
  probes_ = std::clamp(static_cast<unsigned>(std::lround(options_.bits_per_url * 0.6931)), 1u, 16u);
  AddLayer(options_.first_layer);
}

void SeenFilter::AddLayer(size_t capacity) {
  // A power of two of bits, so a probe is a mask, not a division; the layer then holds as many
  // URLs as those bits allow at bits_per_url each.
  const size_t bits = std::bit_ceil(std::max<size_t>(64, capacity * options_.bits_per_url));
  layers_.push_back(Layer{.bits = std::vector<uint64_t>(bits / 64, 0), .capacity = bits / options_.bits_per_url, .count = 0});
}

bool SeenFilter::MayContain(uint64_t f) const {
  const uint64_t step = Step(f);
  for (const Layer& layer : layers_) {
    const uint64_t mask = layer.bits.size() * 64 - 1;
    bool all = true;
    for (unsigned i = 0; i < probes_ && all; ++i) {
      const uint64_t bit = (f + i * step) & mask;
      all = (layer.bits[bit / 64] >> (bit % 64)) & 1;
    }
    if (all) return true;
  }
  return false;
}

SeenFilter::Answer SeenFilter::Check(uint64_t f) const {
  if (recent_.contains(f)) return Answer::kSeen;
  return MayContain(f) ? Answer::kUnsure : Answer::kNew;
}

void SeenFilter::Insert(uint64_t f) {
  if (recent_.size() >= options_.recent_capacity) recent_.clear();
  recent_.insert(f);
  if (MayContain(f)) return;  // its bits are set already, and bits are never cleared
  if (layers_.back().count >= layers_.back().capacity) AddLayer(2 * layers_.back().capacity);
  Layer& layer = layers_.back();
  const uint64_t mask = layer.bits.size() * 64 - 1;
  const uint64_t step = Step(f);
  for (unsigned i = 0; i < probes_; ++i) {
    const uint64_t bit = (f + i * step) & mask;
    layer.bits[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  ++layer.count;
}

size_t SeenFilter::memory_bytes() const {
  size_t bytes = recent_.memory_bytes();
  for (const Layer& layer : layers_) bytes += layer.bits.size() * sizeof(uint64_t);
  return bytes;
}

}  // namespace fanout
