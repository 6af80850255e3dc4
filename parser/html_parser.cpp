#include "parser/html_parser.h"

#include "parser/html_fast_path.h"
#include "parser/page_fields.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <new>
#include <utility>

// How a page is parsed, and why.
//
// gumbo 0.10.1 builds the whole tree, then gumbo_destroy_output frees it with one recursion per level
// (~30 bytes of stack each): 40,000 nested elements overflow a 1 MiB stack. Parsing itself keeps its
// open elements in vectors and does not recurse (a 60,000-deep tree parses on a 64 KiB stack). So the
// tree is allocated in an Arena and freed with it, and read with an explicit stack (Extractor).
//
// gumbo is quadratic on some inputs, by the tree-building algorithm rather than by bugs. Tags look
// through the stack of open elements (scope checks, is this element open?): 100,000 nested <div> take
// it 29 s. Each formatting element is compared with the list of active ones (Noah's Ark): 100,000
// <b id=N>, 134 s. A formatting element closed by something else than its end tag is cloned back
// before the next text: 2,000 paragraphs after 10,000 <b id=N> closed by </p>, 18 s and 7 GB. A tag's
// attributes are compared pairwise: 100,000 of them, 66 s.
//
// So a pre-scan (Scanner + TreeModel) follows the page with a coarse copy of that algorithm and adds
// up the walks, comparisons and clones gumbo will make. Past a budget that real pages stay far below,
// the page is cut there: gumbo parses the start as a tree, and the rest is scanned flat, its link tags
// parsed on their own (FlatDocument). What the model misses is caught by the arena, which abandons the
// parse past a byte cap or a deadline, so that the whole page is scanned flat.

namespace fanout {
namespace {

using Clock = std::chrono::steady_clock;


// ---------------------------------------------------------------------------------------------------
// Arena and GumboDoc

// Arena: gumbo's allocator for one parse. Nothing is freed one by one (gumbo's deallocator is a no-op);
// the chunks go when the arena does, in a loop. gumbo grows vectors and strings by allocating anew and
// freeing the old block, so an arena ends up holding 1.0-1.3x the peak that malloc would (measured on
// 4 MiB pages: 58 MiB against 47 MiB).
//
// It is also where a parse that runs away is stopped. gumbo cannot be interrupted and does not check
// what its allocator returns, so past max_bytes, at the deadline or when malloc fails, Allocate
// longjmps back to Run, abandoning gumbo's frames. That is sound here: gumbo's state lives only in
// its frames and in this arena, and no frame between the setjmp and the longjmp has a destructor to
// skip (which is also why chunks are malloc'd: nothing in Allocate may throw).
class Arena {
 public:
  Arena(size_t max_bytes, Clock::time_point deadline) : max_bytes_(max_bytes), deadline_(deadline) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    while (chunks_ != nullptr) std::free(std::exchange(chunks_, chunks_->previous));
  }

  // Runs gumbo with this arena as its allocator (options.allocator, deallocator and userdata are set
  // here). Returns nullptr if the parse was abandoned; what it had allocated stays until ~Arena.
  GumboOutput* Run(GumboOptions options, std::string_view html) {
    options.allocator = &Allocate;
    options.deallocator = &Deallocate;
    options.userdata = this;
    if (setjmp(abandon_) != 0) return nullptr;
    return gumbo_parse_with_options(&options, html.data(), html.size());
  }

 private:
  struct alignas(std::max_align_t) Chunk {
    Chunk* previous;  // the bytes follow the header
  };
  static constexpr size_t kAlign = alignof(std::max_align_t);
  static constexpr size_t kChunkSize = 64 << 10;  // a 10 KB page takes 2-3 chunks

  static void* Allocate(void* arena, size_t size) { return static_cast<Arena*>(arena)->Bump(size); }
  static void Deallocate(void*, void*) {}

  void* Bump(size_t size) {
    size = std::max(kAlign, (size + kAlign - 1) & ~(kAlign - 1));
    // The clock is read every 256 allocations: gumbo allocates for nearly every token, so a parse
    // cannot run long between two reads, and a read costs ~20 ns.
    if (size > max_bytes_ - std::min(bytes_, max_bytes_) ||
        ((++allocations_ & 255) == 1 && Clock::now() >= deadline_)) {
      std::longjmp(abandon_, 1);
    }
    bytes_ += size;
    if (size > kChunkSize / 4) return NewChunk(size);  // its own chunk: the current one keeps going
    if (size > left_) {
      next_ = static_cast<std::byte*>(NewChunk(kChunkSize));
      left_ = kChunkSize;
    }
    void* p = next_;
    next_ += size;
    left_ -= size;
    return p;
  }

  void* NewChunk(size_t size) {
    void* memory = std::malloc(sizeof(Chunk) + size);
    if (memory == nullptr) std::longjmp(abandon_, 1);
    chunks_ = new (memory) Chunk{chunks_};
    return chunks_ + 1;
  }

  size_t max_bytes_;
  Clock::time_point deadline_;
  std::jmp_buf abandon_;  // set by Run for the duration of gumbo's parse
  Chunk* chunks_ = nullptr;
  std::byte* next_ = nullptr;
  size_t left_ = 0;
  size_t bytes_ = 0;
  size_t allocations_ = 0;
};

// GumboDoc: a gumbo tree and the arena that holds it, freed together. Move-only. There is no
// release(): the tree cannot outlive its arena, and gumbo_destroy_output must never see it.
class GumboDoc {
 public:
  // Parses `html`. The result is empty (false) when the tree would pass max_tree_bytes or the parse
  // would run past `deadline`.
  static GumboDoc Parse(std::string_view html, const ParseOptions& options, Clock::time_point deadline) {
    GumboDoc doc;
    doc.arena_ = std::make_unique<Arena>(options.max_tree_bytes, deadline);  // gumbo keeps its address
    GumboOptions gumbo_options = kGumboDefaultOptions;
    // Every error is recorded, whatever options.max_errors says (ParseHtml caps the count): past
    // its max_errors, gumbo 0.10.1 no longer resets its tag buffer after a duplicate attribute, and
    // glues the dropped name to the next one (`<a x x href=/p>` loses its href). Found by fuzzing
    // the fast path against it.
    gumbo_options.max_errors = -1;
    doc.output_ = doc.arena_->Run(gumbo_options, html);
    return doc;
  }

  explicit operator bool() const { return output_ != nullptr; }
  const GumboOutput* get() const { return output_; }
  const GumboOutput* operator->() const { return output_; }

 private:
  GumboDoc() = default;

  std::unique_ptr<Arena> arena_;
  GumboOutput* output_ = nullptr;  // in arena_
};

// ---------------------------------------------------------------------------------------------------
// Extractor: reads a tree, in document order, with an explicit stack.

class Extractor {
 public:
  Extractor(ParsedPage& page, size_t max_links) : fields_(page, max_links) {}

  // Adds what `root` holds to the page. Called once per tree, in document order: the first title,
  // base and canonical found in any of them win.
  void Walk(const GumboNode* root) {
    stack_.assign(1, root);
    while (!stack_.empty()) {
      const GumboNode* node = stack_.back();
      stack_.pop_back();
      const GumboVector* children = nullptr;
      if (node->type == GUMBO_NODE_DOCUMENT) {
        children = &node->v.document.children;
      } else if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) {
        Element(*node);
        children = &node->v.element.children;
      }
      if (children == nullptr) continue;
      for (unsigned i = children->length; i-- > 0;) {
        stack_.push_back(static_cast<const GumboNode*>(children->data[i]));
      }
    }
  }

 private:
  static const char* Attribute(const GumboElement& e, const char* name) {
    const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
    return a != nullptr ? a->value : nullptr;
  }

  void Element(const GumboNode& node) {
    const GumboElement& e = node.v.element;
    if (e.tag_namespace != GUMBO_NAMESPACE_HTML) return;
    switch (e.tag) {
      case GUMBO_TAG_A:
      case GUMBO_TAG_AREA: {
        // A misnested <a> is cloned by the tree builder (`<a href=x><p>1</a>2` has two); the source
        // has one tag, so the clones are not links of their own.
        if (node.parse_flags & (GUMBO_INSERTION_ADOPTION_AGENCY_CLONED |
                                GUMBO_INSERTION_RECONSTRUCTED_FORMATTING_ELEMENT)) {
          return;
        }
        const char* href = Attribute(e, "href");
        if (href == nullptr || !fields_.WantsLink()) return;
        const char* rel = Attribute(e, "rel");
        const std::string_view rel_text = rel != nullptr ? rel : "";
        fields_.Link(href, e.tag == GUMBO_TAG_AREA, rel != nullptr ? &rel_text : nullptr);
        return;
      }
      case GUMBO_TAG_TITLE: {
        if (!fields_.WantsTitle()) return;
        std::string text;
        for (unsigned i = 0; i < e.children.length; ++i) {
          const auto* child = static_cast<const GumboNode*>(e.children.data[i]);
          if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE) text += child->v.text.text;
        }
        fields_.Title(text);
        return;
      }
      case GUMBO_TAG_BASE: {
        const char* href = Attribute(e, "href");
        if (href != nullptr) fields_.Base(href);
        return;
      }
      case GUMBO_TAG_LINK: {
        const char* rel = Attribute(e, "rel");
        const char* href = Attribute(e, "href");
        if (rel != nullptr && href != nullptr) fields_.LinkElement(rel, href);
        return;
      }
      case GUMBO_TAG_META: {
        const char* name = Attribute(e, "name");
        const char* content = Attribute(e, "content");
        if (name != nullptr && content != nullptr) fields_.Meta(name, content);
        const char* http_equiv = Attribute(e, "http-equiv");
        if (http_equiv != nullptr && content != nullptr) fields_.HttpEquiv(http_equiv, content);
        return;
      }
      default:
        return;
    }
  }

  PageFields fields_;
  std::vector<const GumboNode*> stack_;
};

// ---------------------------------------------------------------------------------------------------
// Scanner: the HTML tokenizer's states that decide where tags, comments and raw text begin and end,
// without building anything. Linear in the input.

enum class TokenKind { kStartTag, kEndTag, kText, kOther, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t begin = 0;  // offset of the token's first byte
  GumboTag tag = GUMBO_TAG_UNKNOWN;
  uint32_t name_hash = 0;  // of the lowercased name: tells unknown tags apart
  std::string_view name;
  std::string_view attributes;  // everything between the name and the closing '>'
  uint32_t attribute_count = 0;
  bool self_closing = false;
  // The first occurrence (the one HTML keeps) of the attributes read here, each as written from its
  // name to the end of its value, quotes included: `href="x"`.
  std::string_view href, rel, name_attr, content, http_equiv;
  bool font_breaks_out = false;  // has color, face or size: a <font> that leaves SVG and MathML
  bool html_encoding = false;    // encoding is text/html or application/xhtml+xml (<annotation-xml>)
};

class Scanner {
 public:
  explicit Scanner(std::string_view html) : s_(html) {}

  size_t position() const { return pos_; }
  void Seek(size_t pos) { pos_ = pos; }

  Token Next() {
    Token t;
    t.begin = pos_;
    if (pos_ >= s_.size()) return t;
    if (s_[pos_] == '<') {
      if (Markup(t)) return t;
      pos_ = t.begin + 1;  // a '<' that opens nothing is text
    }
    const void* lt = std::memchr(s_.data() + pos_, '<', s_.size() - pos_);
    pos_ = lt != nullptr ? static_cast<size_t>(static_cast<const char*>(lt) - s_.data()) : s_.size();
    t.kind = TokenKind::kText;
    return t;
  }

  struct RawText {
    std::string_view text;
    Token end_tag;  // can have attributes, which gumbo reads all the same
  };

  // After a start tag whose content is text (script, style, title...): skips to just past the end tag
  // `</name`, or to the end of the input. Stops at the first such end tag, which is never later than
  // where the HTML tokenizer stops (script's escape states only make that later).
  RawText SkipRawText(std::string_view name) {
    const size_t start = pos_;
    size_t at = pos_;
    for (;;) {
      const void* lt = std::memchr(s_.data() + at, '<', s_.size() - at);
      if (lt == nullptr) break;
      at = static_cast<size_t>(static_cast<const char*>(lt) - s_.data());
      const size_t after = at + 2 + name.size();
      if (after <= s_.size() && s_[at + 1] == '/' && EqualsIgnoreCase(s_.substr(at + 2, name.size()), name) &&
          (after == s_.size() || IsHtmlSpace(s_[after]) || s_[after] == '/' || s_[after] == '>')) {
        RawText raw{s_.substr(start, at - start), Token{}};
        raw.end_tag.kind = TokenKind::kEndTag;
        raw.end_tag.begin = at;
        pos_ = after;
        if (!TagBody(raw.end_tag)) pos_ = s_.size();
        return raw;
      }
      ++at;
    }
    pos_ = s_.size();
    return {s_.substr(start), Token{}};
  }

  void SkipToEnd() { pos_ = s_.size(); }

 private:
  // At a '<': reads a tag, comment or doctype into t. False if the '<' is just text.
  bool Markup(Token& t) {
    const size_t n = s_.size();
    const size_t at = pos_;
    if (at + 1 >= n) return false;
    const char c = s_[at + 1];
    if (IsAsciiAlpha(c)) return Tag(t, at + 1, TokenKind::kStartTag);
    if (c == '/') {
      if (at + 2 >= n) return false;
      if (IsAsciiAlpha(s_[at + 2])) return Tag(t, at + 2, TokenKind::kEndTag);
      if (s_[at + 2] == '>') {
        pos_ = at + 3;  // "</>" is dropped
      } else {
        SkipBogusComment(at + 2);
      }
      t.kind = TokenKind::kOther;
      return true;
    }
    if (c == '!') {
      if (s_.compare(at + 2, 2, "--") == 0) {
        SkipComment(at + 4);
      } else {
        SkipBogusComment(at + 2);  // doctype, <![CDATA[ outside foreign content
      }
      t.kind = TokenKind::kOther;
      return true;
    }
    if (c == '?') {
      SkipBogusComment(at + 2);
      t.kind = TokenKind::kOther;
      return true;
    }
    return false;
  }

  void SkipBogusComment(size_t from) {
    const size_t gt = s_.find('>', from);
    pos_ = gt == std::string_view::npos ? s_.size() : gt + 1;
  }

  // A comment ends at "-->" or "--!>", or right away as "<!-->" or "<!--->", whichever comes first.
  void SkipComment(size_t from) {
    if (s_.compare(from, 1, ">") == 0) {
      pos_ = from + 1;
      return;
    }
    if (s_.compare(from, 2, "->") == 0) {
      pos_ = from + 2;
      return;
    }
    for (size_t at = from;;) {
      at = s_.find("--", at);
      if (at == std::string_view::npos) break;
      if (s_.compare(at + 2, 1, ">") == 0) {
        pos_ = at + 3;
        return;
      }
      if (s_.compare(at + 2, 2, "!>") == 0) {
        pos_ = at + 4;
        return;
      }
      ++at;
    }
    pos_ = s_.size();
  }

  bool Tag(Token& t, size_t name_start, TokenKind kind) {
    size_t i = name_start;
    uint32_t hash = 2166136261u;  // FNV-1a of the lowercased name
    while (i < s_.size() && !IsHtmlSpace(s_[i]) && s_[i] != '/' && s_[i] != '>') {
      hash = (hash ^ static_cast<unsigned char>(AsciiLower(s_[i]))) * 16777619u;
      ++i;
    }
    t.name = s_.substr(name_start, i - name_start);
    t.name_hash = hash;
    t.tag = gumbo_tagn_enum(t.name.data(), static_cast<unsigned>(t.name.size()));
    pos_ = i;
    if (!TagBody(t)) {
      // A tag cut by the end of the input is dropped, as the tokenizer does, but only once it has
      // read (and compared) its attributes.
      pos_ = s_.size();
      t.kind = TokenKind::kOther;
      return true;
    }
    t.kind = kind;
    return true;
  }

  void Capture(Token& t, std::string_view name, std::string_view whole, std::string_view value) {
    auto first = [&](std::string_view& slot, std::string_view wanted) {
      if (slot.empty() && EqualsIgnoreCase(name, wanted)) slot = whole;
    };
    first(t.href, "href");
    first(t.rel, "rel");
    first(t.name_attr, "name");
    first(t.content, "content");
    first(t.http_equiv, "http-equiv");
    if (EqualsIgnoreCase(name, "color") || EqualsIgnoreCase(name, "face") || EqualsIgnoreCase(name, "size")) {
      t.font_breaks_out = true;
    }
    if (EqualsIgnoreCase(name, "encoding")) {
      if (!value.empty() && (value.front() == '"' || value.front() == '\'')) value = value.substr(1, value.size() - 2);
      t.html_encoding = EqualsIgnoreCase(value, "text/html") || EqualsIgnoreCase(value, "application/xhtml+xml");
    }
  }

  // The attribute states, from just after the tag name to just past '>'. False at the end of input.
  bool TagBody(Token& t) {
    const size_t n = s_.size();
    const size_t body = pos_;
    size_t i = pos_;
    for (;;) {
      while (i < n && IsHtmlSpace(s_[i])) ++i;
      if (i >= n) return false;
      if (s_[i] == '>') break;
      if (s_[i] == '/') {
        ++i;
        if (i < n && s_[i] == '>') {
          t.self_closing = true;
          break;
        }
        continue;
      }
      const size_t name_begin = i++;  // the first character may be '=', as the tokenizer allows
      while (i < n && !IsHtmlSpace(s_[i]) && s_[i] != '/' && s_[i] != '>' && s_[i] != '=') ++i;
      const size_t name_end = i;
      while (i < n && IsHtmlSpace(s_[i])) ++i;
      size_t value_begin = i;
      if (i < n && s_[i] == '=') {
        ++i;
        while (i < n && IsHtmlSpace(s_[i])) ++i;
        if (i >= n) return false;
        value_begin = i;
        if (s_[i] == '"' || s_[i] == '\'') {
          const size_t close = s_.find(s_[i], i + 1);
          if (close == std::string_view::npos) return false;
          i = close + 1;
        } else {
          while (i < n && !IsHtmlSpace(s_[i]) && s_[i] != '>') ++i;
        }
      } else {
        i = name_end;  // no value: what follows is read again as the next attribute
      }
      ++t.attribute_count;
      Capture(t, s_.substr(name_begin, name_end - name_begin), s_.substr(name_begin, i - name_begin),
              s_.substr(value_begin, i - value_begin));
    }
    t.attributes = s_.substr(body, i - body);
    pos_ = i + 1;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// TreeModel: gumbo's tree construction, reduced to what makes it slow.
//
// It keeps a stack of open elements and a list of active formatting elements much as gumbo does, and
// counts in `work` the steps gumbo takes on them (a step is ~5 ns of gumbo's time): walks of the stack
// per token (scope checks, finding an element), a walk of the list per formatting element (Noah's Ark
// compares attributes), a walk of the stack per character of text while a formatting element is open,
// clones when formatting elements are reconstructed, attribute pairs compared for duplicates. It also
// estimates the bytes of the tree. It follows the insertion modes that matter for cost (in body, in
// table, in select, foreign content); where it cannot be exact it errs towards more open elements and
// longer lists, so more work. What it must get right both ways is whether a tag is in SVG/MathML,
// since that decides what is raw text and whether "/>" closes; it follows the spec's breakout rules.
// Its weights come from measuring gumbo 0.10.1, and fuzzing (random tag soups, repeated) checks that
// what it lets through grows linearly.

enum class Ns : uint8_t { kHtml, kSvg, kMath };

// What the scanner must do after a start tag.
enum class Content { kMarkup, kRawText, kPlainText };

// Classes of HTML tags in tree construction, as gumbo 0.10.1 knows them.
enum TagClass : uint16_t {
  kSpecial = 1 << 0,     // the spec's "special" elements: they stop "any other end tag" and the li search
  kFormatting = 1 << 1,  // go on the list of active formatting elements
  kBreakout = 1 << 2,    // a start tag that leaves SVG/MathML (<font> only with color, face or size)
  kClosesP = 1 << 3,     // a start tag that closes an open <p> first
  kVoid = 1 << 4,        // never on the stack
  kInline = 1 << 5,      // a void start tag that reconstructs formatting elements first
  kRawText = 1 << 6,     // content is text up to its end tag
  kTablePart = 1 << 7,   // tbody, thead, tfoot, tr, td, th, caption, colgroup, col
  kMarker = 1 << 8,      // pushes a marker on the list; popping it clears the list to that marker
  kKeepsFramesetOk = 1 << 9,  // a start tag after which a <frameset> can still replace the body
};

constexpr std::array<uint16_t, GUMBO_TAG_LAST + 1> MakeTagClasses() {
  std::array<uint16_t, GUMBO_TAG_LAST + 1> classes{};
  auto add = [&](uint16_t c, std::initializer_list<GumboTag> tags) {
    for (GumboTag tag : tags) classes[tag] |= c;
  };
  add(kSpecial, {GUMBO_TAG_ADDRESS, GUMBO_TAG_APPLET, GUMBO_TAG_AREA, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,
                 GUMBO_TAG_BASE, GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY,
                 GUMBO_TAG_BR, GUMBO_TAG_BUTTON, GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER, GUMBO_TAG_COL,
                 GUMBO_TAG_COLGROUP, GUMBO_TAG_MENUITEM, GUMBO_TAG_DD, GUMBO_TAG_DETAILS, GUMBO_TAG_DIR,
                 GUMBO_TAG_DIV, GUMBO_TAG_DL, GUMBO_TAG_DT, GUMBO_TAG_EMBED, GUMBO_TAG_FIELDSET,
                 GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER, GUMBO_TAG_FORM, GUMBO_TAG_FRAME,
                 GUMBO_TAG_FRAMESET, GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5,
                 GUMBO_TAG_H6, GUMBO_TAG_HEAD, GUMBO_TAG_HEADER, GUMBO_TAG_HGROUP, GUMBO_TAG_HR, GUMBO_TAG_HTML,
                 GUMBO_TAG_IFRAME, GUMBO_TAG_IMG, GUMBO_TAG_INPUT, GUMBO_TAG_ISINDEX, GUMBO_TAG_LI,
                 GUMBO_TAG_LINK, GUMBO_TAG_LISTING, GUMBO_TAG_MARQUEE, GUMBO_TAG_MENU, GUMBO_TAG_META,
                 GUMBO_TAG_NAV, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES, GUMBO_TAG_NOSCRIPT, GUMBO_TAG_OBJECT,
                 GUMBO_TAG_OL, GUMBO_TAG_P, GUMBO_TAG_PARAM, GUMBO_TAG_PLAINTEXT, GUMBO_TAG_PRE,
                 GUMBO_TAG_SCRIPT, GUMBO_TAG_SECTION, GUMBO_TAG_SELECT, GUMBO_TAG_STYLE, GUMBO_TAG_SUMMARY,
                 GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_TD, GUMBO_TAG_TEMPLATE, GUMBO_TAG_TEXTAREA,
                 GUMBO_TAG_TFOOT, GUMBO_TAG_TH, GUMBO_TAG_THEAD, GUMBO_TAG_TITLE, GUMBO_TAG_TR, GUMBO_TAG_UL,
                 GUMBO_TAG_WBR, GUMBO_TAG_XMP, GUMBO_TAG_MAIN});
  add(kFormatting, {GUMBO_TAG_A, GUMBO_TAG_B, GUMBO_TAG_BIG, GUMBO_TAG_CODE, GUMBO_TAG_EM, GUMBO_TAG_FONT,
                    GUMBO_TAG_I, GUMBO_TAG_NOBR, GUMBO_TAG_S, GUMBO_TAG_SMALL, GUMBO_TAG_STRIKE,
                    GUMBO_TAG_STRONG, GUMBO_TAG_TT, GUMBO_TAG_U});
  add(kBreakout, {GUMBO_TAG_B, GUMBO_TAG_BIG, GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY, GUMBO_TAG_BR,
                  GUMBO_TAG_CENTER, GUMBO_TAG_CODE, GUMBO_TAG_DD, GUMBO_TAG_DIV, GUMBO_TAG_DL, GUMBO_TAG_DT,
                  GUMBO_TAG_EM, GUMBO_TAG_EMBED, GUMBO_TAG_FONT, GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3,
                  GUMBO_TAG_H4, GUMBO_TAG_H5, GUMBO_TAG_H6, GUMBO_TAG_HEAD, GUMBO_TAG_HR, GUMBO_TAG_I,
                  GUMBO_TAG_IMG, GUMBO_TAG_LI, GUMBO_TAG_LISTING, GUMBO_TAG_MENU, GUMBO_TAG_META,
                  GUMBO_TAG_NOBR, GUMBO_TAG_OL, GUMBO_TAG_P, GUMBO_TAG_PRE, GUMBO_TAG_RUBY, GUMBO_TAG_S,
                  GUMBO_TAG_SMALL, GUMBO_TAG_SPAN, GUMBO_TAG_STRONG, GUMBO_TAG_STRIKE, GUMBO_TAG_SUB,
                  GUMBO_TAG_SUP, GUMBO_TAG_TABLE, GUMBO_TAG_TT, GUMBO_TAG_U, GUMBO_TAG_UL, GUMBO_TAG_VAR});
  add(kClosesP, {GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE, GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_CENTER,
                 GUMBO_TAG_DETAILS, GUMBO_TAG_DIR, GUMBO_TAG_DIV, GUMBO_TAG_DL, GUMBO_TAG_FIELDSET,
                 GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER, GUMBO_TAG_HEADER, GUMBO_TAG_HGROUP,
                 GUMBO_TAG_MENU, GUMBO_TAG_NAV, GUMBO_TAG_OL, GUMBO_TAG_P, GUMBO_TAG_SECTION,
                 GUMBO_TAG_SUMMARY, GUMBO_TAG_UL, GUMBO_TAG_PRE, GUMBO_TAG_LISTING, GUMBO_TAG_FORM,
                 GUMBO_TAG_MAIN, GUMBO_TAG_TABLE, GUMBO_TAG_HR, GUMBO_TAG_XMP, GUMBO_TAG_PLAINTEXT,
                 GUMBO_TAG_ISINDEX, GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5,
                 GUMBO_TAG_H6, GUMBO_TAG_LI, GUMBO_TAG_DD, GUMBO_TAG_DT});
  add(kVoid, {GUMBO_TAG_AREA, GUMBO_TAG_BASE, GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_BR,
              GUMBO_TAG_COL, GUMBO_TAG_EMBED, GUMBO_TAG_FRAME, GUMBO_TAG_HR, GUMBO_TAG_IMAGE, GUMBO_TAG_IMG,
              GUMBO_TAG_INPUT, GUMBO_TAG_ISINDEX, GUMBO_TAG_KEYGEN, GUMBO_TAG_LINK, GUMBO_TAG_META,
              GUMBO_TAG_PARAM, GUMBO_TAG_SOURCE, GUMBO_TAG_TRACK, GUMBO_TAG_WBR});
  add(kInline, {GUMBO_TAG_AREA, GUMBO_TAG_BR, GUMBO_TAG_EMBED, GUMBO_TAG_IMAGE, GUMBO_TAG_IMG,
                GUMBO_TAG_INPUT, GUMBO_TAG_KEYGEN, GUMBO_TAG_WBR, GUMBO_TAG_ISINDEX});
  add(kRawText, {GUMBO_TAG_TITLE, GUMBO_TAG_TEXTAREA, GUMBO_TAG_STYLE, GUMBO_TAG_SCRIPT, GUMBO_TAG_NOFRAMES,
                 GUMBO_TAG_IFRAME, GUMBO_TAG_NOEMBED, GUMBO_TAG_XMP});
  add(kTablePart, {GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD,
                   GUMBO_TAG_TH, GUMBO_TAG_CAPTION, GUMBO_TAG_COLGROUP, GUMBO_TAG_COL});
  add(kMarker, {GUMBO_TAG_APPLET, GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT, GUMBO_TAG_TEMPLATE, GUMBO_TAG_TD,
                GUMBO_TAG_TH, GUMBO_TAG_CAPTION});
  add(kKeepsFramesetOk, {GUMBO_TAG_HTML, GUMBO_TAG_HEAD, GUMBO_TAG_BODY, GUMBO_TAG_BASE, GUMBO_TAG_BASEFONT,
                         GUMBO_TAG_BGSOUND, GUMBO_TAG_LINK, GUMBO_TAG_META, GUMBO_TAG_TITLE, GUMBO_TAG_STYLE,
                         GUMBO_TAG_SCRIPT, GUMBO_TAG_NOSCRIPT, GUMBO_TAG_NOFRAMES, GUMBO_TAG_FRAMESET,
                         GUMBO_TAG_FRAME});
  return classes;
}

constexpr std::array<uint16_t, GUMBO_TAG_LAST + 1> kTagClasses = MakeTagClasses();

bool Has(GumboTag tag, uint16_t tag_class) { return (kTagClasses[tag] & tag_class) != 0; }

class TreeModel {
 public:
  uint64_t work() const { return work_; }
  uint64_t tree_bytes() const { return tree_bytes_; }

  // The attributes of any tag (start or end, complete or cut off by the end of the input). gumbo's
  // tokenizer compares each with the ones before it, looking for duplicates, and copies it.
  void Attributes(const Token& t) {
    work_ += uint64_t{t.attribute_count} * t.attribute_count / 2;
    tree_bytes_ += kAttributeBytes * t.attribute_count + 4 * t.attributes.size();
  }

  // A text or comment node of `length` bytes (also raw text: script, style). gumbo grows a buffer
  // for the text by doubling, then copies it.
  void TextNode(size_t length) { tree_bytes_ += kNodeBytes + 4 * length; }

  Content StartTag(const Token& t) {
    Charge();
    tree_bytes_ += kNodeBytes;  // even when the tag is ignored: more, never less
    if (InFrameset()) {
      // "in frameset" and "after frameset" ignore all but these (title, for one, is not raw text).
      if (t.tag == GUMBO_TAG_FRAMESET && !after_frameset_) PushHtml(t);
      return t.tag == GUMBO_TAG_NOFRAMES ? Content::kRawText : Content::kMarkup;
    }
    if (!Has(t.tag, kKeepsFramesetOk)) frameset_ok_ = false;
    if (!HtmlContext(t)) {
      if (!(Has(t.tag, kBreakout) && (t.tag != GUMBO_TAG_FONT || t.font_breaks_out))) {
        foster_ = InTableMode();
        if (!t.self_closing) Push(t, Current().ns);
        return Content::kMarkup;
      }
      // A breakout tag leaves foreign content, then is processed as HTML.
      while (!open_.empty() && !HtmlContext(t)) Pop();
    }
    return HtmlStartTag(t);
  }

  void EndTag(const Token& t) {
    // End tags cost gumbo 3-20 ns per open element (scope checks that compare each element with a list
    // of tags), where start tags cost under 3: four steps each.
    Charge();
    work_ += 3 * open_.size();
    if (InFrameset()) {
      if (t.tag == GUMBO_TAG_FRAMESET && !after_frameset_) {
        Pop();
        after_frameset_ = open_.empty();
      }
      return;
    }
    foster_ = InTableMode();
    // In foreign content: close the nearest element of that name, unless an HTML element comes first.
    // gumbo re-reads each element's name from its source text here: 15-50 ns a step.
    for (size_t i = open_.size(); i-- > 0;) {
      work_ += 8;
      if (open_[i].ns == Ns::kHtml) break;
      if (Same(open_[i], t)) {
        PopTo(i);
        return;
      }
    }
    HtmlEndTag(t);
  }

  // Text in markup (not in raw text elements).
  void Text(std::string_view text) {
    const size_t length = text.size();
    Charge();
    TextNode(length);
    work_ += length;
    if (frameset_ok_ && !std::all_of(text.begin(), text.end(), IsHtmlSpace)) frameset_ok_ = false;
    if (InFrameset()) return;  // ignored
    if (!open_.empty() && open_.back().ns != Ns::kHtml && !open_.back().integration_point) return;
    foster_ = InTableMode();
    if (InSelect()) return;
    Reconstruct();
    // gumbo handles text one character at a time, and for each it checks whether the last formatting
    // element is open by looking for it in the stack: a quick walk (~1 ns a step) for every byte.
    if (!list_.empty() && !list_.back().marker) work_ += length * open_.size() / 4;
  }

 private:
  struct El {
    GumboTag tag;
    uint32_t hash;
    Ns ns;
    bool integration_point;  // children are HTML: foreignObject/desc/title, mi..mtext, annotation-xml
    bool foster;             // pushed "in table" mode without leaving it (foster-parented)
    uint32_t id;
  };
  struct Entry {  // of the list of active formatting elements
    GumboTag tag;
    uint32_t hash;
    uint32_t id;        // of the element, or of its latest clone
    uint32_t attribute_count;
    uint64_t attrs;     // hash of the attributes as written: equal attributes, equal hash
    bool open;          // its element is on the stack
    bool marker;
  };

  // A clone costs gumbo ~180 ns plus ~175 ns per attribute (measured), at ~5 ns a step.
  static constexpr uint64_t kCloneWork = 40;
  static constexpr uint64_t kCloneAttributeWork = 35;
  // Arena bytes of a node and of an attribute (measured: 4 MiB of <p>x take 352 MiB, of <a href=x>
  // 155 MiB, of <i a=1 b=2 c=3 d=4></i> 175 MiB, of real pages 50-60 MiB). With these, estimates are
  // 1.0-1.5x what gumbo takes.
  static constexpr uint64_t kNodeBytes = 200;
  static constexpr uint64_t kAttributeBytes = 200;

  static bool IsHeading(GumboTag tag) { return tag >= GUMBO_TAG_H1 && tag <= GUMBO_TAG_H6; }
  static bool Same(const El& e, const Token& t) { return e.tag == t.tag && e.hash == t.name_hash; }
  static bool Is(const El& e, GumboTag tag) { return e.tag == tag && e.ns == Ns::kHtml; }
  static bool IsSpecial(const El& e) { return e.ns == Ns::kHtml ? Has(e.tag, kSpecial) : e.integration_point; }

  const El& Current() const { return open_.back(); }

  // A <frameset> replaced the body: gumbo ignores nearly everything from there on.
  bool InFrameset() const { return after_frameset_ || (!open_.empty() && Is(Current(), GUMBO_TAG_FRAMESET)); }

  // What every token costs gumbo at most besides what is counted where it happens: a walk of the
  // stack (scope checks, looking up an entry of the list on the stack) and of the list.
  void Charge() { work_ += 1 + open_.size() + list_.size(); }

  // Whether a start tag is processed by the HTML rules rather than as foreign content.
  bool HtmlContext(const Token& t) const {
    if (open_.empty()) return true;
    const El& cur = Current();
    if (cur.ns == Ns::kHtml) return true;
    if (cur.ns == Ns::kMath && cur.tag == GUMBO_TAG_ANNOTATION_XML) {
      return t.tag == GUMBO_TAG_SVG || cur.integration_point;
    }
    if (cur.ns == Ns::kMath && cur.integration_point) {
      return t.tag != GUMBO_TAG_MGLYPH && t.tag != GUMBO_TAG_MALIGNMARK;
    }
    return cur.integration_point;
  }

  enum class Scope { kDefault, kButton, kListItem, kTable, kSelect };

  static bool Bounds(const El& e, Scope scope) {
    if (scope == Scope::kSelect) return !Is(e, GUMBO_TAG_OPTION) && !Is(e, GUMBO_TAG_OPTGROUP);
    if (e.ns != Ns::kHtml) return scope != Scope::kTable && e.integration_point;
    switch (e.tag) {
      case GUMBO_TAG_HTML: case GUMBO_TAG_TABLE: case GUMBO_TAG_TEMPLATE:
        return true;
      case GUMBO_TAG_APPLET: case GUMBO_TAG_CAPTION: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
      case GUMBO_TAG_MARQUEE: case GUMBO_TAG_OBJECT:
        return scope != Scope::kTable;
      case GUMBO_TAG_BUTTON:
        return scope == Scope::kButton;
      case GUMBO_TAG_OL: case GUMBO_TAG_UL:
        return scope == Scope::kListItem;
      default:
        return false;
    }
  }

  // Index of the topmost open HTML element `tag` in scope, or -1.
  ptrdiff_t InScope(GumboTag tag, Scope scope) {
    for (size_t i = open_.size(); i-- > 0;) {
      ++work_;
      if (Is(open_[i], tag)) return static_cast<ptrdiff_t>(i);
      if (Bounds(open_[i], scope)) return -1;
    }
    return -1;
  }

  // gumbo is "in select" while a select is the current node or the parent of the current option(s).
  bool InSelect() {
    for (size_t i = open_.size(); i-- > 0;) {
      ++work_;
      if (Is(open_[i], GUMBO_TAG_SELECT)) return true;
      if (!Is(open_[i], GUMBO_TAG_OPTION) && !Is(open_[i], GUMBO_TAG_OPTGROUP)) return false;
    }
    return false;
  }

  // gumbo is "in table" (or in table body, in row) when the nearest element that was not foster-parented
  // is a table, a section or a row. Foster-parenting does not change the insertion mode: a <table> after
  // `<table><em>` still closes the first table (and pops the em).
  bool InTableMode() {
    for (size_t i = open_.size(); i-- > 0;) {
      ++work_;
      const El& e = open_[i];
      if (e.foster) continue;
      return Is(e, GUMBO_TAG_TABLE) || Is(e, GUMBO_TAG_TBODY) || Is(e, GUMBO_TAG_THEAD) ||
             Is(e, GUMBO_TAG_TFOOT) || Is(e, GUMBO_TAG_TR);
    }
    return false;
  }

  void Push(const Token& t, Ns ns) { Push(t.tag, t.name_hash, ns, t.html_encoding); }

  void Push(GumboTag tag, uint32_t hash, Ns ns, bool html_encoding = false) {
    bool integration_point = false;
    if (ns == Ns::kSvg) {
      integration_point = tag == GUMBO_TAG_FOREIGNOBJECT || tag == GUMBO_TAG_DESC || tag == GUMBO_TAG_TITLE;
    } else if (ns == Ns::kMath) {
      integration_point = tag == GUMBO_TAG_MI || tag == GUMBO_TAG_MO || tag == GUMBO_TAG_MN ||
                          tag == GUMBO_TAG_MS || tag == GUMBO_TAG_MTEXT ||
                          (tag == GUMBO_TAG_ANNOTATION_XML && html_encoding);
    }
    const bool table = ns == Ns::kHtml && (tag == GUMBO_TAG_TABLE || Has(tag, kTablePart) ||
                                           tag == GUMBO_TAG_TEMPLATE || tag == GUMBO_TAG_SELECT);
    open_.push_back(El{tag, hash, ns, integration_point, foster_ && !table, next_id_++});
  }

  void PushImplied(GumboTag tag) {
    tree_bytes_ += kNodeBytes;
    Push(tag, 0, Ns::kHtml);
  }

  void PushHtml(const Token& t) {
    Push(t, Ns::kHtml);
    if (Has(t.tag, kMarker)) list_.push_back(Entry{GUMBO_TAG_UNKNOWN, 0, 0, 0, 0, false, true});
  }

  void Pop() {
    const El e = open_.back();
    open_.pop_back();
    if (e.ns != Ns::kHtml) return;
    if (Has(e.tag, kFormatting)) {
      for (size_t i = list_.size(); i-- > 0;) {
        ++work_;
        if (!list_[i].marker && list_[i].id == e.id) {
          list_[i].open = false;
          break;
        }
      }
    }
    if (Has(e.tag, kMarker)) {
      while (!list_.empty()) {
        ++work_;
        const bool marker = list_.back().marker;
        list_.pop_back();
        if (marker) break;
      }
    }
  }

  void PopTo(size_t index) {
    while (open_.size() > index) Pop();
  }

  void ClosePInButtonScope() {
    const ptrdiff_t p = InScope(GUMBO_TAG_P, Scope::kButton);
    if (p >= 0) PopTo(static_cast<size_t>(p));
  }

  // "Reconstruct the active formatting elements": formatting elements closed by something other than
  // their end tag are cloned back onto the stack before the next text or inline element.
  void Reconstruct() {
    if (list_.empty() || list_.back().marker || list_.back().open) return;
    size_t first = list_.size() - 1;
    while (first > 0 && !list_[first - 1].marker && !list_[first - 1].open) {
      --first;
      work_ += open_.size();  // gumbo looks each entry up in the stack
    }
    for (size_t i = first; i < list_.size(); ++i) {
      Entry& e = list_[i];
      work_ += kCloneWork + kCloneAttributeWork * e.attribute_count + open_.size();
      tree_bytes_ += kNodeBytes + kAttributeBytes * e.attribute_count;
      Push(e.tag, e.hash, Ns::kHtml);
      e.id = open_.back().id;
      e.open = true;
    }
  }

  // Adds the element just pushed to the list. Noah's Ark: at most three entries with the same tag and
  // attributes after the last marker; gumbo compares the attributes of every entry with the same tag.
  // Attributes written differently count as different here: more entries.
  void AddFormatting(const Token& t) {
    const uint64_t attrs = std::hash<std::string_view>{}(t.attributes);
    size_t same = 0;
    size_t earliest = 0;
    for (size_t i = list_.size(); i-- > 0;) {
      ++work_;
      const Entry& e = list_[i];
      if (e.marker) break;
      if (e.tag != t.tag) continue;
      work_ += 2 * (1 + t.attribute_count);
      if (e.attrs == attrs) {
        ++same;
        earliest = i;
      }
    }
    if (same >= 3) list_.erase(list_.begin() + static_cast<ptrdiff_t>(earliest));
    list_.push_back(Entry{t.tag, t.name_hash, open_.back().id, t.attribute_count, attrs, true, false});
  }

  // Index in list_ of the last entry for `tag` after the last marker, or -1.
  ptrdiff_t LastFormatting(GumboTag tag) {
    for (size_t i = list_.size(); i-- > 0;) {
      ++work_;
      if (list_[i].marker) return -1;
      if (list_[i].tag == tag) return static_cast<ptrdiff_t>(i);
    }
    return -1;
  }

  // The adoption agency, for the end tag of a formatting element (or an <a>/<nobr> that closes one).
  // Without a "furthest block" it pops to the element; with one, gumbo moves and clones nodes in up to
  // 8 rounds, which the model charges and otherwise ignores (the element stays open: more work).
  void AdoptionAgency(const Token& t) {
    const ptrdiff_t entry = LastFormatting(t.tag);
    if (entry < 0) {
      AnyOtherEndTag(t);
      return;
    }
    if (!list_[static_cast<size_t>(entry)].open) {
      list_.erase(list_.begin() + entry);
      return;
    }
    size_t at = open_.size();
    for (size_t i = open_.size(); i-- > 0;) {
      ++work_;
      if (open_[i].id == list_[static_cast<size_t>(entry)].id) {
        at = i;
        break;
      }
      if (Bounds(open_[i], Scope::kDefault)) return;  // not in scope: ignored
    }
    if (at == open_.size()) return;
    for (size_t i = at + 1; i < open_.size(); ++i) {
      ++work_;
      if (IsSpecial(open_[i])) {
        work_ += 8 * (kCloneWork + open_.size() + list_.size());
        tree_bytes_ += 8 * kNodeBytes;
        return;
      }
    }
    PopTo(at);
    const ptrdiff_t closed = LastFormatting(t.tag);  // Pop marked it closed; drop it
    if (closed >= 0 && !list_[static_cast<size_t>(closed)].open) list_.erase(list_.begin() + closed);
  }

  void AnyOtherEndTag(const Token& t) {
    for (size_t i = open_.size(); i-- > 0;) {
      ++work_;
      if (Same(open_[i], t) && open_[i].ns == Ns::kHtml) {
        PopTo(i);
        return;
      }
      if (IsSpecial(open_[i])) return;
    }
  }

  // Pops down to the nearest of `tags` (or html, template), as "clear the stack back to a table context".
  void ClearBackTo(std::initializer_list<GumboTag> tags) {
    while (!open_.empty()) {
      ++work_;
      const El& e = Current();
      if (e.ns == Ns::kHtml && (e.tag == GUMBO_TAG_HTML || e.tag == GUMBO_TAG_TEMPLATE ||
                                std::find(tags.begin(), tags.end(), e.tag) != tags.end())) {
        return;
      }
      Pop();
    }
  }

  Content HtmlStartTag(const Token& t) {
    if (InSelect()) return SelectStartTag(t);
    if (!open_.empty() && Is(Current(), GUMBO_TAG_COLGROUP) && t.tag != GUMBO_TAG_COL &&
        t.tag != GUMBO_TAG_TEMPLATE) {
      Pop();  // "in column group", anything else closes the colgroup
    }
    foster_ = InTableMode();
    return foster_ ? TableStartTag(t) : BodyStartTag(t);
  }

  // "in table", "in table body" and "in row".
  Content TableStartTag(const Token& t) {
    switch (t.tag) {
      case GUMBO_TAG_TABLE: {
        const ptrdiff_t table = InScope(GUMBO_TAG_TABLE, Scope::kTable);
        if (table < 0) return Content::kMarkup;
        PopTo(static_cast<size_t>(table));  // closes the table, then starts the new one
        return HtmlStartTag(t);
      }
      case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP: case GUMBO_TAG_COL:
      case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT:
        ClearBackTo({GUMBO_TAG_TABLE});
        if (t.tag != GUMBO_TAG_COL) PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_TR:
        ClearBackTo({GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT});
        if (!open_.empty() && Is(Current(), GUMBO_TAG_TABLE)) PushImplied(GUMBO_TAG_TBODY);
        PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_TD: case GUMBO_TAG_TH:
        ClearBackTo({GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR});
        if (!open_.empty() && Is(Current(), GUMBO_TAG_TABLE)) PushImplied(GUMBO_TAG_TBODY);
        if (!open_.empty() && !Is(Current(), GUMBO_TAG_TR)) PushImplied(GUMBO_TAG_TR);
        PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_INPUT: case GUMBO_TAG_FORM:
        return Content::kMarkup;  // inserted and popped at once
      case GUMBO_TAG_STYLE: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_TEMPLATE:
        return BodyStartTag(t);  // the "in head" rules, same as in body
      default:
        return BodyStartTag(t);  // foster-parented: pushed elements are marked so
    }
  }

  // "in body" (also "in cell", "in caption", and what "in table" foster-parents).
  Content BodyStartTag(const Token& t) {
    const GumboTag tag = t.tag;
    switch (tag) {
      case GUMBO_TAG_HTML: case GUMBO_TAG_BODY: case GUMBO_TAG_HEAD:
        return Content::kMarkup;  // merged into the existing element, or ignored
      case GUMBO_TAG_FRAMESET:
        if (!frameset_ok_) return Content::kMarkup;  // ignored
        PopTo(0);  // it replaces the body
        PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP: case GUMBO_TAG_COL: case GUMBO_TAG_TBODY:
      case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH: {
        // In a cell or caption these close it and start again "in row" or "in table"; in a template
        // they are inserted; anywhere else, ignored.
        for (size_t i = open_.size(); i-- > 0;) {
          ++work_;
          const El& e = open_[i];
          if (Is(e, GUMBO_TAG_TD) || Is(e, GUMBO_TAG_TH) || Is(e, GUMBO_TAG_CAPTION)) {
            PopTo(i);
            return HtmlStartTag(t);
          }
          if (Is(e, GUMBO_TAG_TEMPLATE)) {
            if (tag != GUMBO_TAG_COL) PushHtml(t);
            return Content::kMarkup;
          }
          if (Bounds(e, Scope::kTable)) return Content::kMarkup;
        }
        return Content::kMarkup;
      }
      case GUMBO_TAG_XMP:
        ClosePInButtonScope();
        Reconstruct();
        return Content::kRawText;
      case GUMBO_TAG_PLAINTEXT:
        ClosePInButtonScope();
        return Content::kPlainText;
      case GUMBO_TAG_LI: case GUMBO_TAG_DD: case GUMBO_TAG_DT: {
        // Close the nearest li (dd, dt), unless a special element other than address, div, p comes first.
        for (size_t i = open_.size(); i-- > 0;) {
          ++work_;
          const El& e = open_[i];
          if (tag == GUMBO_TAG_LI ? Is(e, GUMBO_TAG_LI) : (Is(e, GUMBO_TAG_DD) || Is(e, GUMBO_TAG_DT))) {
            PopTo(i);
            break;
          }
          if (IsSpecial(e) && !Is(e, GUMBO_TAG_ADDRESS) && !Is(e, GUMBO_TAG_DIV) && !Is(e, GUMBO_TAG_P)) break;
        }
        break;
      }
      case GUMBO_TAG_BUTTON: {
        const ptrdiff_t button = InScope(GUMBO_TAG_BUTTON, Scope::kDefault);
        if (button >= 0) PopTo(static_cast<size_t>(button));
        break;
      }
      case GUMBO_TAG_A: {
        if (LastFormatting(GUMBO_TAG_A) >= 0) AdoptionAgency(t);  // an open <a> is closed first
        break;
      }
      case GUMBO_TAG_NOBR:
        Reconstruct();
        if (InScope(GUMBO_TAG_NOBR, Scope::kDefault) >= 0) AdoptionAgency(t);
        break;
      case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP:
        if (!open_.empty() && Is(Current(), GUMBO_TAG_OPTION)) Pop();
        break;
      default:
        break;
    }
    if (Has(tag, kClosesP)) ClosePInButtonScope();
    if (IsHeading(tag) && !open_.empty() && Current().ns == Ns::kHtml && IsHeading(Current().tag)) Pop();
    if (Has(tag, kVoid)) {
      if (Has(tag, kInline)) Reconstruct();
      return Content::kMarkup;
    }
    if (Has(tag, kRawText)) return Content::kRawText;
    const bool block = Has(tag, kClosesP) || tag == GUMBO_TAG_TEMPLATE ||
                       tag == GUMBO_TAG_RB || tag == GUMBO_TAG_RP || tag == GUMBO_TAG_RT ||
                       tag == GUMBO_TAG_RTC;
    if (!block) Reconstruct();
    if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) {
      if (!t.self_closing) Push(t, tag == GUMBO_TAG_SVG ? Ns::kSvg : Ns::kMath);
      return Content::kMarkup;
    }
    PushHtml(t);
    if (Has(tag, kFormatting)) AddFormatting(t);
    return Content::kMarkup;
  }

  Content SelectStartTag(const Token& t) {
    switch (t.tag) {
      case GUMBO_TAG_OPTION:
        if (Is(Current(), GUMBO_TAG_OPTION)) Pop();
        PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_OPTGROUP:
        if (Is(Current(), GUMBO_TAG_OPTION)) Pop();
        if (Is(Current(), GUMBO_TAG_OPTGROUP)) Pop();
        PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_SCRIPT:
        return Content::kRawText;
      case GUMBO_TAG_TEMPLATE:
        PushHtml(t);
        return Content::kMarkup;
      case GUMBO_TAG_SELECT: case GUMBO_TAG_INPUT: case GUMBO_TAG_KEYGEN: case GUMBO_TAG_TEXTAREA:
      case GUMBO_TAG_CAPTION: case GUMBO_TAG_TABLE: case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT:
      case GUMBO_TAG_THEAD: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH: {
        const ptrdiff_t select = InScope(GUMBO_TAG_SELECT, Scope::kSelect);
        if (select < 0) return Content::kMarkup;
        if (t.tag == GUMBO_TAG_TABLE || Has(t.tag, kTablePart)) {
          // Only "in select in table" do table parts close the select.
          bool in_table = false;
          for (size_t i = static_cast<size_t>(select); i-- > 0;) {
            ++work_;
            if (Is(open_[i], GUMBO_TAG_TEMPLATE)) break;
            if (Is(open_[i], GUMBO_TAG_TABLE)) {
              in_table = true;
              break;
            }
          }
          if (!in_table) return Content::kMarkup;
        }
        PopTo(static_cast<size_t>(select));
        if (t.tag == GUMBO_TAG_SELECT) return Content::kMarkup;
        return HtmlStartTag(t);
      }
      default:
        return Content::kMarkup;  // ignored
    }
  }

  void HtmlEndTag(const Token& t) {
    // "in select" ignores every end tag but these.
    const bool select_end = t.tag == GUMBO_TAG_SELECT || t.tag == GUMBO_TAG_OPTION ||
                            t.tag == GUMBO_TAG_OPTGROUP || t.tag == GUMBO_TAG_TEMPLATE;
    if (!select_end && InSelect()) return;
    if (Has(t.tag, kFormatting)) {
      AdoptionAgency(t);
      return;
    }
    Scope scope = Scope::kDefault;
    switch (t.tag) {
      case GUMBO_TAG_HTML: case GUMBO_TAG_BODY: case GUMBO_TAG_HEAD:
        return;
      case GUMBO_TAG_BR:
        Reconstruct();  // </br> is a <br>
        return;
      case GUMBO_TAG_P:
        scope = Scope::kButton;
        break;
      case GUMBO_TAG_LI:
        scope = Scope::kListItem;
        break;
      case GUMBO_TAG_TABLE: case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT:
      case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP:
        scope = Scope::kTable;
        break;
      case GUMBO_TAG_SELECT:
        scope = Scope::kSelect;
        break;
      case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP:
        if (!open_.empty() && Is(Current(), t.tag)) Pop();
        return;
      case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
      case GUMBO_TAG_H6:
        for (size_t i = open_.size(); i-- > 0;) {
          ++work_;
          const El& e = open_[i];
          if (e.ns == Ns::kHtml && IsHeading(e.tag)) {
            PopTo(i);
            return;
          }
          if (Bounds(e, Scope::kDefault)) return;
        }
        return;
      default:
        if (!Has(t.tag, kSpecial)) {
          AnyOtherEndTag(t);
          return;
        }
        break;
    }
    const ptrdiff_t at = InScope(t.tag, scope);
    if (at >= 0) PopTo(static_cast<size_t>(at));
  }

  std::vector<El> open_;
  std::vector<Entry> list_;
  bool foster_ = false;  // the token at hand is processed "in table": what it pushes is foster-parented
  // Whether a <frameset> would still replace the body. gumbo's flag turns false on fewer tags than
  // this one does: when this one says yes, so does gumbo's.
  bool frameset_ok_ = true;
  bool after_frameset_ = false;  // the frameset that replaced the body was closed
  uint32_t next_id_ = 1;
  uint64_t work_ = 0;
  uint64_t tree_bytes_ = 0;  // estimated arena bytes of gumbo's tree
};

// ---------------------------------------------------------------------------------------------------
// Pre-scan and flat scan

// Work the model may count before the rest of the page is scanned flat. Well-formed pages count 1-10
// per byte, sloppy ones (unclosed <font> in every paragraph) up to ~30; pages that make gumbo
// quadratic count thousands. A step is ~5 ns of gumbo's time, so a page cut at the budget costs at
// most ~5 ms + ~160 ns/byte more than a benign page of its size (which takes ~70 ns/byte).
uint64_t WorkBudget(size_t bytes) { return 1'000'000 + 32 * uint64_t{bytes}; }

// Where gumbo's tree should stop: the start of the first token past the work budget, or past half
// of max_tree_bytes (so that the arena's cap is a backstop, not the rule), or the end.
size_t FindCut(std::string_view html, size_t max_tree_bytes) {
  Scanner scanner(html);
  TreeModel model;
  const uint64_t work_budget = WorkBudget(html.size());
  const uint64_t bytes_budget = max_tree_bytes / 2;
  for (;;) {
    const Token t = scanner.Next();
    model.Attributes(t);
    switch (t.kind) {
      case TokenKind::kEnd:
        return html.size();
      case TokenKind::kStartTag: {
        const Content content = model.StartTag(t);
        if (content == Content::kRawText) {
          const Scanner::RawText raw = scanner.SkipRawText(t.name);
          model.TextNode(raw.text.size());
          model.Attributes(raw.end_tag);
        }
        if (content == Content::kPlainText) {
          const size_t from = scanner.position();
          scanner.SkipToEnd();
          model.Text(html.substr(from));
        }
        break;
      }
      case TokenKind::kEndTag:
        model.EndTag(t);
        break;
      case TokenKind::kText:
        model.Text(html.substr(t.begin, scanner.position() - t.begin));
        break;
      case TokenKind::kOther:  // a comment, a doctype, a tag cut off by the end
        model.TextNode(scanner.position() - t.begin);
        break;
    }
    if (model.work() > work_budget || model.tree_bytes() > bytes_budget) return t.begin;
  }
}

// The tags of html[from, end) that the extractor reads, each standing alone, in order: a and area with
// an href (closed at once, at most max_links), the first base with an href, the first canonical link,
// a few robots metas and the first title. Only the attributes read are kept, so a tag cannot carry
// thousands of them into gumbo. gumbo parses this flat document in linear time and little memory, and
// decodes the entities, so what comes out is what a tree would give.
std::string FlatDocument(std::string_view html, size_t from, size_t max_links) {
  std::string out;
  Scanner scanner(html);
  scanner.Seek(from);
  size_t links = 0;
  bool have_title = false;
  bool have_base = false;
  bool have_canonical = false;
  bool have_refresh = false;
  size_t robots = 0;  // robots metas, and the refresh one
  constexpr size_t kMaxRobots = 16;
  auto attribute = [&](std::string_view a) {
    if (a.empty()) return;
    out += ' ';
    out += a;
  };
  for (Token t = scanner.Next(); t.kind != TokenKind::kEnd; t = scanner.Next()) {
    if (t.kind != TokenKind::kStartTag) continue;
    switch (t.tag) {
      case GUMBO_TAG_A:
      case GUMBO_TAG_AREA:
        if (t.href.empty() || links >= max_links) break;
        ++links;
        out += t.tag == GUMBO_TAG_A ? "<a" : "<area";
        attribute(t.href);
        attribute(t.rel);
        out += t.tag == GUMBO_TAG_A ? " ></a>" : " >";
        break;
      case GUMBO_TAG_BASE:
        if (t.href.empty() || have_base) break;
        have_base = true;
        out += "<base";
        attribute(t.href);
        out += " >";
        break;
      case GUMBO_TAG_LINK:
        if (t.href.empty() || have_canonical || !ContainsIgnoreCase(t.rel, "canonical")) break;
        have_canonical = true;
        out += "<link";
        attribute(t.rel);
        attribute(t.href);
        out += " >";
        break;
      case GUMBO_TAG_META: {
        const bool refresh = !have_refresh && ContainsIgnoreCase(t.http_equiv, "refresh");
        if (t.content.empty() || robots >= kMaxRobots || !(refresh || ContainsIgnoreCase(t.name_attr, "robots"))) break;
        ++robots;
        have_refresh = have_refresh || refresh;
        out += "<meta";
        attribute(t.name_attr);
        attribute(t.http_equiv);
        attribute(t.content);
        out += " >";
        break;
      }
      case GUMBO_TAG_PLAINTEXT:
        scanner.SkipToEnd();
        break;
      default: {
        if (!Has(t.tag, kRawText)) break;
        const std::string_view text = scanner.SkipRawText(t.name).text;
        if (t.tag == GUMBO_TAG_TITLE && !have_title) {
          have_title = true;
          out += "<title>";
          out += text;
          out += "</title>";
        }
        break;
      }
    }
  }
  return out;
}

// now + budget, saturating instead of overflowing for a huge budget.
Clock::time_point Deadline(std::chrono::milliseconds budget) {
  const Clock::time_point now = Clock::now();
  if (budget >= std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now)) {
    return Clock::time_point::max();
  }
  return now + budget;
}

}  // namespace

ParsedPage ParseHtml(std::string_view html, const ParseOptions& options) {
  ParsedPage page;
  if (html.size() > options.max_bytes) {
    html = html.substr(0, options.max_bytes);
    page.truncated = true;
  }
  if (options.parser == HtmlParser::kAuto) {
    ParsedPage fast;
    const FastPathBailout why = ParseHtmlFastPath(html, options.max_links, fast);
    if (why == FastPathBailout::kNone) {
      fast.truncated = page.truncated;
      fast.fast_path = true;
      return fast;
    }
    page.bailout = FastPathBailoutName(why);
  }
  Extractor extractor(page, options.max_links);

  size_t cut = FindCut(html, options.max_tree_bytes);
  {
    const GumboDoc tree = GumboDoc::Parse(html.substr(0, cut), options, Deadline(options.max_tree_time));
    if (tree) {
      extractor.Walk(tree->document);
      page.errors = std::min<size_t>(tree->errors.length, static_cast<size_t>(std::max(0, options.max_errors)));
    } else {
      cut = 0;  // a backstop gave up on the tree: the whole page is scanned flat
    }
  }
  if (cut < html.size()) {
    page.flattened = true;
    const std::string flat = FlatDocument(html, cut, options.max_links);
    // A flat document has no nesting and few attributes per tag: gumbo is linear on it, and its tree
    // takes ~25x its size. It gets room for that whatever max_tree_bytes is, and no deadline.
    ParseOptions flat_options = options;
    flat_options.max_tree_bytes = std::max(options.max_tree_bytes, 64 * flat.size() + (1 << 20));
    const GumboDoc tree = GumboDoc::Parse(flat, flat_options, Clock::time_point::max());
    if (tree) extractor.Walk(tree->document);
  }
  return page;
}

}  // namespace fanout
