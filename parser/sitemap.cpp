#include "parser/sitemap.h"

#include <expat.h>

#define ZLIB_CONST  // next_in is const: zlib only reads the body
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <utility>

// How a sitemap is read, and why.
//
// The body flows through in chunks, never whole: the gzip inflater (when there is one) hands each
// chunk to a BodyReader, which decides from the first bytes whether this is XML or text and feeds
// the chunk on. So a sitemap stops being inflated and parsed as soon as max_urls is reached, and a
// zip bomb costs the cap's worth of inflating, never its expanded size in memory.
//
// XML is read by expat without namespace processing: a sitemap whose extensions forgot to declare
// their prefix (<image:image> without xmlns:image, common in the wild) would otherwise be an error.
// Instead, the root's prefix, whatever it is, is the sitemap's: <sm:urlset> has entries <sm:url> and
// <sm:loc>, <urlset> has <url> and <loc>. The entries are the root's children, their locations the
// entries' children, so an <image:loc> (or a <loc> inside it) is never taken for a page.
//
// Sitemaps have no use for a DTD. Internal entities are how XML bombs expand ("billion laughs"), and
// expat 2.5's amplification guard only starts at 8 MiB of expansion, so a declared entity is an
// error, before anything is expanded. expat never fetches external entities without a handler, and
// none is set.

namespace fanout {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A name from the document, short enough for a one-line message.
std::string Quote(std::string_view name) {
  constexpr size_t kMax = 64;
  return name.size() <= kMax ? std::string(name) : std::string(name.substr(0, kMax)) + "...";
}

// Adds `url` unless it is empty; false, with `truncated` set, when the sitemap already has max_urls.
bool AddUrl(std::string_view url, const SitemapLimits& limits, Sitemap& sitemap) {
  url = Trim(url);
  if (url.empty()) return true;
  if (sitemap.urls.size() >= limits.max_urls) {
    sitemap.truncated = true;
    return false;
  }
  sitemap.urls.emplace_back(url);
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Text sitemaps: one URL per line

class TextReader {
 public:
  TextReader(const SitemapLimits& limits, Sitemap& sitemap) : limits_(limits), sitemap_(sitemap) {}

  // False when no more is wanted (max_urls reached).
  bool Feed(std::string_view chunk) {
    for (size_t newline; (newline = chunk.find('\n')) != std::string_view::npos;) {
      bool more;
      if (line_.empty()) {
        more = AddUrl(chunk.substr(0, newline), limits_, sitemap_);
      } else {
        line_.append(chunk.substr(0, newline));
        more = AddUrl(line_, limits_, sitemap_);
        line_.clear();
      }
      if (!more) return false;
      chunk.remove_prefix(newline + 1);
    }
    line_.append(chunk);
    return true;
  }

  // `cut`: the body was cut at the size cap, so its last line may be a part of one.
  void Finish(bool cut) {
    if (!cut) AddUrl(line_, limits_, sitemap_);
  }

 private:
  const SitemapLimits& limits_;
  Sitemap& sitemap_;
  std::string line_;  // the line read so far, when a chunk ends inside it
};

// ---------------------------------------------------------------------------------------------------
// XML sitemaps: urlset and sitemapindex

// Where the document starts in the body, after the whitespace the XML parser is not shown: its line
// breaks, and the columns after the last one.
struct Position {
  unsigned long lines = 0;
  unsigned long columns = 0;
};

struct XmlParserFree {
  void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
};
using XmlParser = std::unique_ptr<XML_ParserStruct, XmlParserFree>;

class XmlReader {
 public:
  // `start`: where the document starts in the body, for the positions in messages.
  XmlReader(const SitemapLimits& limits, Sitemap& sitemap, Position start)
      : limits_(limits), sitemap_(sitemap), start_(start), parser_(XML_ParserCreate(nullptr)) {
    if (!parser_) {
      stopped_ = true;
      error_ = "sitemap: out of memory for the XML parser";
      return;
    }
    XML_Parser p = parser_.get();
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, &XmlReader::OnStart, &XmlReader::OnEnd);
    XML_SetCharacterDataHandler(p, &XmlReader::OnText);
    XML_SetEntityDeclHandler(p, &XmlReader::OnEntityDecl);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
  }

  XmlReader(const XmlReader&) = delete;
  XmlReader& operator=(const XmlReader&) = delete;

  // False when no more is wanted (max_urls reached, or an error).
  bool Feed(std::string_view chunk) {
    if (stopped_) return false;
    while (!chunk.empty()) {
      size_t n = std::min(chunk.size(), kChunkBytes);
      if (XML_Parse(parser_.get(), chunk.data(), static_cast<int>(n), XML_FALSE) != XML_STATUS_OK) {
        Failed();
        return false;
      }
      chunk.remove_prefix(n);
    }
    return true;
  }

  // `cut`: the body was cut at the size cap, so the document is left unfinished, and that is no error.
  Status Finish(bool cut) {
    if (!stopped_ && !cut && XML_Parse(parser_.get(), nullptr, 0, XML_TRUE) != XML_STATUS_OK) Failed();
    return error_.empty() ? Status::Ok() : Status::InvalidArgument(error_);
  }

 private:
  // The callbacks run inside XML_Parse. They must not throw through expat's C frames, and after
  // XML_StopParser expat may still call some of them, which must then do nothing.
  template <typename F>
  static void Guarded(void* self, F&& f) {
    auto* reader = static_cast<XmlReader*>(self);
    if (reader->stopped_) return;
    try {
      f(*reader);
    } catch (...) {  // std::bad_alloc: nothing else in the callbacks throws
      reader->Stop("sitemap: out of memory");
    }
  }

  static void OnStart(void* self, const XML_Char* name, const XML_Char** /*attributes*/) {
    Guarded(self, [name](XmlReader& r) { r.Start(name); });
  }
  static void OnEnd(void* self, const XML_Char* /*name*/) {
    Guarded(self, [](XmlReader& r) { r.End(); });
  }
  static void OnText(void* self, const XML_Char* text, int length) {
    Guarded(self, [text, length](XmlReader& r) {
      if (r.in_loc_) r.loc_.append(text, static_cast<size_t>(length));
    });
  }
  static void OnEntityDecl(void* self, const XML_Char* name, int /*is_parameter_entity*/,
                           const XML_Char* /*value*/, int /*value_length*/, const XML_Char* /*base*/,
                           const XML_Char* /*system_id*/, const XML_Char* /*public_id*/,
                           const XML_Char* /*notation_name*/) {
    Guarded(self, [name](XmlReader& r) {
      r.Stop("sitemap: the XML declares an entity (" + Quote(name) + "), which sitemaps never need");
    });
  }

  void Start(std::string_view name) {
    ++depth_;
    if (depth_ == 1) {
      size_t colon = name.rfind(':');
      std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
      std::string prefix(colon == std::string_view::npos ? std::string_view() : name.substr(0, colon + 1));
      if (local == "urlset") {
        sitemap_.kind = Sitemap::Kind::kUrlSet;
        entry_name_ = prefix + "url";
      } else if (local == "sitemapindex") {
        sitemap_.kind = Sitemap::Kind::kIndex;
        entry_name_ = prefix + "sitemap";
      } else {
        Stop("sitemap: the root element is <" + Quote(name) + ">, not <urlset> or <sitemapindex>");
        return;
      }
      loc_name_ = prefix + "loc";
    } else if (depth_ == 2) {
      in_entry_ = name == entry_name_;
      entry_has_url_ = false;
    } else if (depth_ == 3 && in_entry_ && !entry_has_url_ && name == loc_name_) {
      in_loc_ = true;
      loc_.clear();
    }
  }

  void End() {
    if (depth_ == 3 && in_loc_) {
      in_loc_ = false;
      size_t before = sitemap_.urls.size();
      if (!AddUrl(loc_, limits_, sitemap_)) {
        Stop("");
        return;
      }
      entry_has_url_ = sitemap_.urls.size() > before;
    }
    --depth_;
  }

  // Stops the parser; `error` is "" for a stop that is not an error (max_urls reached).
  void Stop(std::string error) {
    stopped_ = true;
    if (error_.empty()) error_ = std::move(error);
    XML_StopParser(parser_.get(), XML_FALSE);
  }

  // XML_Parse failed: the document is malformed, unless a callback stopped it.
  void Failed() {
    if (stopped_) return;
    stopped_ = true;
    XML_Parser p = parser_.get();
    XML_Size line = XML_GetCurrentLineNumber(p);
    XML_Size column = XML_GetCurrentColumnNumber(p) + 1 + (line == 1 ? start_.columns : 0);
    error_ = "sitemap: malformed XML at line " + std::to_string(line + start_.lines) + ", column " +
             std::to_string(column) + ": " + XML_ErrorString(XML_GetErrorCode(p));
  }

  const SitemapLimits& limits_;
  Sitemap& sitemap_;
  const Position start_;
  XmlParser parser_;
  std::string entry_name_;       // "url" or "sitemap", with the root's prefix
  std::string loc_name_;         // "loc", with the root's prefix
  int depth_ = 0;                // of the element being read; the root is 1
  bool in_entry_ = false;        // inside an entry: a child of the root named entry_name_
  bool entry_has_url_ = false;   // the entry has had its <loc>
  bool in_loc_ = false;          // inside the entry's <loc>: its text is the URL
  std::string loc_;
  bool stopped_ = false;
  std::string error_;            // "" unless the document was refused
};

// ---------------------------------------------------------------------------------------------------
// The body: XML or text, decided by its first bytes

class BodyReader {
 public:
  explicit BodyReader(const SitemapLimits& limits) : limits_(limits) {}

  // False when no more is wanted (max_urls reached, or an error).
  bool Feed(std::string_view chunk) {
    if (xml_) return xml_->Feed(chunk);
    if (text_) return text_->Feed(chunk);
    return Sniff(chunk);
  }

  // `cut`: the body was cut at the size cap.
  Result<Sitemap> Finish(bool cut) {
    if (!xml_ && !text_) {
      // All whitespace, or empty, or a part of a BOM: a text sitemap, with whatever that part says.
      sitemap_.kind = Sitemap::Kind::kText;
      text_.emplace(limits_, sitemap_);
      text_->Feed(head_);
    }
    if (xml_) {
      FANOUT_RETURN_IF_ERROR(xml_->Finish(cut));
    } else {
      text_->Finish(cut);
    }
    sitemap_.truncated = sitemap_.truncated || cut;
    return std::move(sitemap_);
  }

 private:
  // Looks past a UTF-8 BOM (which may straddle chunks) and whitespace for the first byte that says.
  bool Sniff(std::string_view chunk) {
    if (bom_checked_) return SniffFrom(chunk);
    size_t take = std::min(chunk.size(), kUtf8Bom.size() - head_.size());
    head_.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
    if (head_.size() < kUtf8Bom.size() && kUtf8Bom.starts_with(head_)) return true;  // wait for more
    bom_checked_ = true;
    std::string head = std::move(head_);
    head_.clear();
    if (head == kUtf8Bom) return SniffFrom(chunk);
    if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
      // UTF-16 with a BOM: expat reads it, BOM included.
      xml_.emplace(limits_, sitemap_, Position{});
      return xml_->Feed(head) && xml_->Feed(chunk);
    }
    // Not a BOM: these are the body's first bytes.
    return SniffFrom(head) && Feed(chunk);
  }

  bool SniffFrom(std::string_view rest) {
    size_t start = 0;
    for (; start < rest.size() && IsSpace(rest[start]); ++start) {
      if (rest[start] == '\n') {
        ++skipped_.lines;
        skipped_.columns = 0;
      } else {
        ++skipped_.columns;
      }
    }
    if (start == rest.size()) return true;
    rest.remove_prefix(start);
    if (rest.front() == '<') {
      // From the '<': an XML declaration is only one at the very start of the document.
      xml_.emplace(limits_, sitemap_, skipped_);
      return xml_->Feed(rest);
    }
    sitemap_.kind = Sitemap::Kind::kText;
    text_.emplace(limits_, sitemap_);
    return text_->Feed(rest);
  }

  const SitemapLimits& limits_;
  Sitemap sitemap_;
  bool bom_checked_ = false;
  std::string head_;                  // the first bytes, until they show whether they are a BOM
  Position skipped_;                  // the whitespace before the document
  std::optional<XmlReader> xml_;
  std::optional<TextReader> text_;
};

// ---------------------------------------------------------------------------------------------------
// gzip

// A z_stream set up for gzip, ended on destruction.
class GzipInflater {
 public:
  GzipInflater() { ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK; }
  ~GzipInflater() {
    if (ok_) inflateEnd(&z_);
  }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  bool ok() const { return ok_; }
  z_stream* get() { return &z_; }

 private:
  z_stream z_{};
  bool ok_ = false;
};

// Inflates `body` (one gzip member or several, concatenated) into `reader`, at most `cap` bytes.
// `cut` says whether there was more than that. Bytes after the last member are ignored, as gzip does.
Status Inflate(std::string_view body, size_t cap, BodyReader& reader, bool& cut) {
  GzipInflater inflater;
  if (!inflater.ok()) return Status::InvalidArgument("sitemap: zlib could not start inflating (out of memory)");
  z_stream& z = *inflater.get();
  const auto* begin = reinterpret_cast<const Bytef*>(body.data());
  // avail_in is 32 bits wide: a body past 4 GiB goes in in parts.
  auto refill = [&] {
    size_t used = static_cast<size_t>(z.next_in - begin);
    z.avail_in = static_cast<uInt>(std::min<size_t>(body.size() - used, UINT_MAX));
  };
  z.next_in = begin;
  refill();

  auto buffer = std::make_unique<char[]>(kChunkBytes);
  size_t total = 0;
  cut = false;
  for (;;) {
    if (z.avail_in == 0) refill();
    z.next_out = reinterpret_cast<Bytef*>(buffer.get());
    z.avail_out = static_cast<uInt>(kChunkBytes);
    int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR) {
      return Status::InvalidArgument(std::string("sitemap: corrupt gzip stream: ") +
                                     (z.msg != nullptr ? z.msg : "inflate failed"));
    }
    size_t produced = kChunkBytes - z.avail_out;
    if (produced > cap - total) {
      produced = cap - total;
      cut = true;
    }
    total += produced;
    if (produced > 0 && !reader.Feed(std::string_view(buffer.get(), produced))) return Status::Ok();
    if (cut) return Status::Ok();
    if (rc == Z_STREAM_END) {
      std::string_view rest = body.substr(static_cast<size_t>(z.next_in - begin));
      if (!rest.starts_with("\x1f\x8b")) return Status::Ok();
      if (inflateReset(&z) != Z_OK) {
        return Status::InvalidArgument("sitemap: corrupt gzip stream: reset failed");
      }
      continue;
    }
    if (rc == Z_BUF_ERROR || (produced == 0 && z.avail_in == 0 &&
                              static_cast<size_t>(z.next_in - begin) == body.size())) {
      // No progress is possible: the input ended inside the stream.
      return Status::InvalidArgument("sitemap: corrupt gzip stream: it ends before its end (truncated)");
    }
  }
}

}  // namespace

Result<Sitemap> ParseSitemap(std::string_view body, const SitemapLimits& limits) {
  BodyReader reader(limits);
  bool cut = false;
  if (body.starts_with("\x1f\x8b")) {
    FANOUT_RETURN_IF_ERROR(Inflate(body, limits.max_uncompressed_bytes, reader, cut));
  } else {
    cut = body.size() > limits.max_uncompressed_bytes;
    body = body.substr(0, limits.max_uncompressed_bytes);
    while (!body.empty()) {
      size_t n = std::min(body.size(), kChunkBytes);
      if (!reader.Feed(body.substr(0, n))) break;
      body.remove_prefix(n);
    }
  }
  return reader.Finish(cut);
}

}  // namespace fanout
