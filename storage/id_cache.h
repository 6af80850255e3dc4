// IdCache: a bounded map from text to the integer id it has in a table, such as a URL's urls.id.
//
// The store's writer looks every link's URL up before it writes the link; most are URLs it met a
// moment ago. The cache keeps two generations of at most `capacity` entries each: a lookup that
// hits the old generation moves the entry into the new one, and when the new one is full it
// becomes the old one and the old one is dropped. So the URLs in use stay, memory is bounded by
// 2 * capacity entries however big the crawl, and no entry costs more than a hash map node.
//
// The cache only remembers; the table is the truth. A caller whose transaction rolls back, taking
// ids it inserted with it, must Clear() the cache.
//
// Thread rules: none; one thread at a time (the store's writer owns its caches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fanout {

class IdCache {
 public:
  // capacity: entries per generation; 0 caches nothing.
  explicit IdCache(size_t capacity) : capacity_(capacity) {}

  // The id remembered for text, if any. A hit in the old generation moves it to the new one.
  std::optional<int64_t> Find(std::string_view text);

  // Remembers text's id. REQUIRES: text is not cached (Find returned nothing).
  void Put(std::string_view text, int64_t id);

  // Forgets everything.
  void Clear();

  size_t size() const { return current_.size() + previous_.size(); }

 private:
  // Lets Find look a string_view up without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using Map = std::unordered_map<std::string, int64_t, Hash, std::equal_to<>>;

  void MakeRoom();  // a full current_ becomes previous_

  size_t capacity_;
  Map current_;   // the newer generation: at most capacity_ entries
  Map previous_;  // the generation before; dropped when current_ fills again
};

}  // namespace fanout
