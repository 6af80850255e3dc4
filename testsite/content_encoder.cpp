#include "testsite/content_encoder.h"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cassert>
#include <memory>

namespace fanout::testsite {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct DeflateEnd {
  void operator()(z_stream* z) const {
    deflateEnd(z);
    delete z;
  }
};

// zlib's deflateInit2 writes a gzip header with no name and a zero time stamp: the same bytes every time.
std::string Deflate(std::string_view body, int window_bits) {
  auto* raw = new z_stream{};
  if (deflateInit2(raw, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    delete raw;
    return {};
  }
  std::unique_ptr<z_stream, DeflateEnd> z(raw);
  std::string out(deflateBound(z.get(), static_cast<uLong>(body.size())), '\0');
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z->avail_in = static_cast<uInt>(body.size());
  z->next_out = reinterpret_cast<Bytef*>(out.data());
  z->avail_out = static_cast<uInt>(out.size());
  deflate(z.get(), Z_FINISH);  // deflateBound leaves room for all of it in one call
  out.resize(z->total_out);
  return out;
}

std::string Brotli(std::string_view body) {
  std::string out(BrotliEncoderMaxCompressedSize(body.size()), '\0');
  size_t n = out.size();
  BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, body.size(),
                        reinterpret_cast<const uint8_t*>(body.data()), &n, reinterpret_cast<uint8_t*>(out.data()));
  out.resize(n);
  return out;
}

std::string Zstd(std::string_view body) {
  std::string out(ZSTD_compressBound(body.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), body.data(), body.size(), 3);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

}  // namespace

bool AcceptsCoding(std::string_view accept_encoding, std::string_view coding) {
  // The coding named outright decides; "*" stands for any coding not named.
  bool star = false;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = item.find(';');
    std::string_view name = Trim(item.substr(0, semi));
    const bool named = EqualsNoCase(name, coding);
    if (!named && name != "*") continue;
    // "gzip;q=0" refuses gzip; any other weight accepts it.
    bool weighted = true;
    std::string_view param = semi == std::string_view::npos ? std::string_view() : Trim(item.substr(semi + 1));
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      weighted = Trim(param.substr(2)).find_first_not_of("0.") != std::string_view::npos;
    }
    if (named) return weighted;
    star = weighted;
  }
  return star;
}

std::string EncodeContent(std::string_view coding, std::string_view body) {
  if (coding == "gzip") return Deflate(body, 15 + 16);
  if (coding == "deflate") return Deflate(body, 15);
  if (coding == "br") return Brotli(body);
  assert(coding == "zstd");
  return Zstd(body);
}

const std::string& ContentEncoder::Encode(const std::string& key, std::string_view coding, std::string_view body) {
  const std::string full_key = std::string(coding) + ' ' + key;
  auto it = entries_.find(full_key);
  if (it != entries_.end()) {
    order_.splice(order_.end(), order_, it->second.second);
    Entry& e = it->second.first;
    if (e.body != body) {
      e.body = body;
      e.encoded = EncodeContent(coding, body);
    }
    return e.encoded;
  }
  if (entries_.size() >= capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(full_key);
  auto& slot = entries_[full_key];
  slot.first = Entry{std::string(body), EncodeContent(coding, body)};
  slot.second = std::prev(order_.end());
  return slot.first.encoded;
}

}  // namespace fanout::testsite
