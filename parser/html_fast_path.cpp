#include "parser/html_fast_path.h"

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "parser/html_entities.h"
#include "parser/page_fields.h"
#include "parser/utf8.h"

// What the fast path must get right, and why it can.
//
// gumbo's result is read from its tree in document order. For the elements kept (a, area, base,
// link, meta, title in the HTML namespace), the tree's order is the source order, and every start tag
// makes an element, except where tree construction moves, drops or re-reads content:
//  - foster parenting: content in a table but outside its cells and caption goes before the table.
//    The fast path tracks the open tables (which are in a cell, a caption or neither) and stops at
//    any start tag that would be foster-parented; text is moved too, but holds nothing kept.
//  - <select> drops most tags; <template> parses into a fragment; <svg> and <math> have their own
//    tag names and raw text rules; <frameset> may replace the body: the fast path stops there.
//  - the adoption agency, run for a formatting element (<a>, <b>, ...) closed out of order or an <a>
//    opened inside another, can move a block after content that followed it in the source (found
//    by fuzzing: `<a><code><x><li><a href=1><li><a href=2>` puts link 2 first). The fast path keeps
//    a stack of open elements that holds at least gumbo's, and stops wherever the adoption agency
//    could move anything. The clones it and the reconstruction of formatting elements make are
//    skipped by the extractor, so they need no tracking.
//  - which elements' content is text (title, textarea: RCDATA; style, xmp, iframe, noembed,
//    noframes: RAWTEXT; script: script data; plaintext: the rest) is decided in tree construction,
//    but outside the cases above it is the same in every insertion mode gumbo reaches.
// gumbo replaces some input (invalid UTF-8, NUL, controls, noncharacters) with U+FFFD; a page with
// any of those is handed over, so the bytes the fast path reads are the characters gumbo reads (CR
// aside: the input stream turns CR LF and CR into LF, which the decoding of values does too).

namespace fanout {
namespace {

constexpr size_t kEnd = std::string_view::npos;  // the input ended: nothing more to read

bool IsAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
bool IsHexDigit(char c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Whether gumbo reads every byte as it is: valid UTF-8 with no NUL, no C0 control other than tab,
// LF, FF and CR, no DEL or C1 control and no noncharacter (gumbo's "invalid code points").
bool ReadsAsIs(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  size_t i = 0;
  while (i < n) {
    // Eight bytes at a time while they are printable ASCII (a byte under 0x20, a DEL or a high bit
    // sends them to the byte-by-byte check).
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      const uint64_t del = w ^ (0x7f * kOnes);
      if (((w | ((w - 0x20 * kOnes) & ~w) | ((del - kOnes) & ~del)) & kHigh) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned c = p[i];
    if (c < 0x80) {
      if (c < 0x20 ? !(c == '\t' || c == '\n' || c == '\f' || c == '\r') : c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp <= 0x9f || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe) return false;
    i += len;
  }
  return true;
}

// A numeric reference's code point that the tokenizer keeps as it is (no replacement, no error).
bool PlainCodePoint(uint64_t cp) {
  if (cp < 0x20) return cp == '\t' || cp == '\n' || cp == '\f';
  if (cp >= 0x7f && cp <= 0x9f) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp > 0x10ffff) return false;
  return !((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe);
}

// Decodes the character reference at s[at] == '&' into `out`, as the tokenizer does in an attribute
// value (`in_attribute`) or in RCDATA. Returns the position after what it consumed, or kEnd for a
// numeric reference the fast path does not decode (see PlainCodePoint).
size_t CharRef(std::string_view s, size_t at, bool in_attribute, std::string& out) {
  const size_t n = s.size();
  const size_t j = at + 1;
  if (j < n && s[j] == '#') {
    size_t k = j + 1;
    const bool hex = k < n && (s[k] == 'x' || s[k] == 'X');
    if (hex) ++k;
    const size_t digits = k;
    uint64_t cp = 0;
    while (k < n && (hex ? IsHexDigit(s[k]) : IsAsciiDigit(s[k]))) {
      if (k - digits >= 8) return kEnd;  // past U+10FFFF whatever follows
      const char d = s[k];
      cp = cp * (hex ? 16 : 10) + static_cast<uint64_t>(IsAsciiDigit(d) ? d - '0' : AsciiLower(d) - 'a' + 10);
      ++k;
    }
    if (k == digits) {  // "&#" or "&#x" with no digits: not a reference
      out.append(s.substr(at, k - at));
      return k;
    }
    if (!PlainCodePoint(cp)) return kEnd;
    AppendUtf8(static_cast<uint32_t>(cp), out);
    return k < n && s[k] == ';' ? k + 1 : k;
  }
  size_t k = j;
  while (k < n && IsAlnum(s[k])) ++k;
  const std::string_view run = s.substr(j, k - j);
  if (k < n && s[k] == ';' && !run.empty()) {
    if (std::optional<std::string_view> text = NamedRefWithSemicolon(run)) {
      out.append(*text);
      return k + 1;
    }
  }
  // The longest legacy name the run starts with, if any. In an attribute, one followed by '=' or a
  // letter or digit is left as written ("&notify=1"), for the sake of old URLs.
  for (size_t len = std::min(run.size(), kLongestLegacyName); len >= 2; --len) {
    const std::optional<std::string_view> text = LegacyNamedRef(run.substr(0, len));
    if (!text) continue;
    const size_t after = j + len;
    if (in_attribute && after < n && (s[after] == '=' || IsAlnum(s[after]))) break;
    out.append(*text);
    return after;
  }
  out.append(s.substr(at, k - at));  // not a reference: the ampersand and the run stay
  return k;
}

// Decodes an attribute value or RCDATA text: character references, and CR LF or CR as LF. False if
// it holds a reference the fast path does not decode.
bool Decode(std::string_view raw, bool in_attribute, std::string& out) {
  out.clear();
  if (raw.empty()) return true;  // (an absent attribute's view has no data for memchr)
  if (std::memchr(raw.data(), '&', raw.size()) == nullptr && std::memchr(raw.data(), '\r', raw.size()) == nullptr) {
    out.assign(raw);
    return true;
  }
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    const char c = raw[i];
    if (c == '&') {
      i = CharRef(raw, i, in_attribute, out);
      if (i == kEnd) return false;
    } else if (c == '\r') {
      out += '\n';
      i += (i + 1 < raw.size() && raw[i + 1] == '\n') ? 2 : 1;
    } else {
      out += c;
      ++i;
    }
  }
  return true;
}

// The tags the fast path tells apart; every other name is kOther.
enum class Tag : uint8_t {
  kOther, kA, kArea, kBase, kLink, kMeta, kTitle, kTextarea, kStyle, kXmp, kIframe, kNoembed,
  kNoframes, kScript, kPlaintext, kSvg, kMath, kTemplate, kSelect, kFrameset, kInput, kForm,
  kTable, kCaption, kColgroup, kCol, kTbody, kThead, kTfoot, kTr, kTd, kTh,
};

// A tag name of at most 8 letters, lowercased, packed into an integer (first letter lowest), so
// that telling names apart is comparing integers; 0 for a longer or empty name.
constexpr uint64_t Pack(std::string_view name) {
  if (name.empty() || name.size() > 8) return 0;
  uint64_t packed = 0;
  for (size_t i = name.size(); i-- > 0;) packed = (packed << 8) | static_cast<unsigned char>(AsciiLower(name[i]));
  return packed;
}

// `packed` is Pack(name).
Tag Classify(uint64_t packed, std::string_view name) {
  switch (packed) {
    case Pack("a"): return Tag::kA;
    case Pack("td"): return Tag::kTd;
    case Pack("th"): return Tag::kTh;
    case Pack("tr"): return Tag::kTr;
    case Pack("col"): return Tag::kCol;
    case Pack("svg"): return Tag::kSvg;
    case Pack("xmp"): return Tag::kXmp;
    case Pack("area"): return Tag::kArea;
    case Pack("base"): return Tag::kBase;
    case Pack("form"): return Tag::kForm;
    case Pack("link"): return Tag::kLink;
    case Pack("math"): return Tag::kMath;
    case Pack("meta"): return Tag::kMeta;
    case Pack("input"): return Tag::kInput;
    case Pack("style"): return Tag::kStyle;
    case Pack("table"): return Tag::kTable;
    case Pack("tbody"): return Tag::kTbody;
    case Pack("tfoot"): return Tag::kTfoot;
    case Pack("thead"): return Tag::kThead;
    case Pack("title"): return Tag::kTitle;
    case Pack("iframe"): return Tag::kIframe;
    case Pack("script"): return Tag::kScript;
    case Pack("select"): return Tag::kSelect;
    case Pack("caption"): return Tag::kCaption;
    case Pack("noembed"): return Tag::kNoembed;
    case Pack("colgroup"): return Tag::kColgroup;
    case Pack("frameset"): return Tag::kFrameset;
    case Pack("noframes"): return Tag::kNoframes;
    case Pack("template"): return Tag::kTemplate;
    case Pack("textarea"): return Tag::kTextarea;
    case 0:
      return EqualsIgnoreCase(name, "plaintext") ? Tag::kPlaintext : Tag::kOther;
    default:
      return Tag::kOther;
  }
}

// Start tags that end plain foreign content: the HTML tags that break out of <svg> and <math>, and
// the integration points, whose content is HTML again. Inside foreign content the fast path stops
// at any of them.
bool LeavesForeignContent(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "annotation-xml", "b", "big", "blockquote", "body", "br", "center", "code", "dd", "desc", "div", "dl", "dt",
      "em", "embed", "font", "foreignobject", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li",
      "listing", "menu", "meta", "mi", "mn", "mo", "ms", "mtext", "nobr", "ol", "p", "pre", "ruby", "s", "small",
      "span", "strike", "strong", "sub", "sup", "table", "title", "tt", "u", "ul", "var",
  };
  for (std::string_view n : kNames) {
    if (EqualsIgnoreCase(n, name)) return true;
  }
  return false;
}

// The formatting elements, which the adoption agency rearranges when they are misnested, by index;
// -1 for another name. kVoid for an element that is never open (no end tag).
constexpr int kVoid = -2;
constexpr int kFormattingCount = 14;
int FormattingIndex(uint64_t packed) {
  switch (packed) {
    case Pack("a"): return 0;
    case Pack("b"): return 1;
    case Pack("big"): return 2;
    case Pack("code"): return 3;
    case Pack("em"): return 4;
    case Pack("font"): return 5;
    case Pack("i"): return 6;
    case Pack("nobr"): return 7;
    case Pack("s"): return 8;
    case Pack("small"): return 9;
    case Pack("strike"): return 10;
    case Pack("strong"): return 11;
    case Pack("tt"): return 12;
    case Pack("u"): return 13;
    case Pack("area"): case Pack("base"): case Pack("basefont"): case Pack("bgsound"): case Pack("br"):
    case Pack("col"): case Pack("embed"): case Pack("frame"): case Pack("hr"): case Pack("img"):
    case Pack("image"): case Pack("input"): case Pack("keygen"): case Pack("link"): case Pack("meta"):
    case Pack("param"): case Pack("source"): case Pack("track"): case Pack("wbr"):
      return kVoid;
    default:
      return -1;
  }
}

bool KeepsAttributes(Tag tag) {
  return tag == Tag::kA || tag == Tag::kArea || tag == Tag::kBase || tag == Tag::kLink || tag == Tag::kMeta;
}

struct Attribute {
  std::string_view raw;  // the value as written, without its quotes
  bool present = false;
};

struct TagToken {
  Tag tag = Tag::kOther;
  std::string_view name;
  int formatting = -1;        // FormattingIndex
  bool self_closing = false;  // ended by "/>", which only foreign content honours
  Attribute href, rel, name_attr, content, http_equiv;  // the first of each, for the tags that keep them
};

class FastPath {
 public:
  FastPath(std::string_view html, size_t max_links, ParsedPage& page)
      : s_(html), n_(html.size()), fields_(page, max_links) {}

  FastPathBailout Run() {
    size_t i = 0;
    while (i < n_) {
      const void* lt = std::memchr(s_.data() + i, '<', n_ - i);
      if (lt == nullptr) break;
      i = Markup(static_cast<size_t>(static_cast<const char*>(lt) - s_.data()));
      if (bail_ != FastPathBailout::kNone) return bail_;
    }
    return FastPathBailout::kNone;
  }

 private:
  // An open table: where in it the parser is, and which row group is open.
  enum class Where : uint8_t { kTable, kTd, kTh, kCaption };
  struct Table {
    Where where = Where::kTable;
    Tag group = Tag::kOther;  // kTbody, kThead, kTfoot, or kOther for none
  };

  // At s_[at] == '<': reads what it opens. Returns where to go on (kEnd: the input ended).
  size_t Markup(size_t at) {
    if (at + 1 >= n_) return kEnd;
    const char c = s_[at + 1];
    if (IsAsciiAlpha(c)) return StartTag(at + 1);
    if (c == '/') {
      if (at + 2 >= n_) return kEnd;
      const char d = s_[at + 2];
      if (IsAsciiAlpha(d)) return EndTag(at + 2);
      if (d == '>') return at + 3;  // "</>" is dropped
      return BogusComment(at + 2);
    }
    if (c == '!') {
      if (s_.compare(at + 2, 2, "--") == 0) return Comment(at + 4);
      // In foreign content <![CDATA[ opens a CDATA section; elsewhere it is a bogus comment.
      if (!foreign_.empty() && s_.compare(at + 2, 7, "[CDATA[") == 0) return Bail(FastPathBailout::kForeignContent);
      return BogusComment(at + 2);  // a doctype ends at its first '>' too, quotes or not
    }
    if (c == '?') return BogusComment(at + 1);
    return at + 1;  // a '<' that opens nothing is text
  }

  size_t BogusComment(size_t from) {
    const void* gt = std::memchr(s_.data() + from, '>', n_ - from);
    return gt == nullptr ? kEnd : static_cast<size_t>(static_cast<const char*>(gt) - s_.data()) + 1;
  }

  // A comment ends at "-->" or "--!>", or right away as "<!-->" or "<!--->".
  size_t Comment(size_t from) {
    if (s_.compare(from, 1, ">") == 0) return from + 1;
    if (s_.compare(from, 2, "->") == 0) return from + 2;
    for (size_t at = from;;) {
      at = s_.find("--", at);
      if (at == std::string_view::npos) return kEnd;
      if (s_.compare(at + 2, 1, ">") == 0) return at + 3;
      if (s_.compare(at + 2, 2, "!>") == 0) return at + 4;
      ++at;
    }
  }

  // Reads a tag from the first letter of its name to just past its '>'. Returns kEnd if the input
  // ends first: the tokenizer then drops the tag.
  size_t ReadTag(size_t name_start, bool start_tag, TagToken& t) {
    size_t i = name_start;
    while (i < n_ && !IsHtmlSpace(s_[i]) && s_[i] != '/' && s_[i] != '>') ++i;
    t.name = s_.substr(name_start, i - name_start);
    const uint64_t packed = Pack(t.name);
    t.tag = Classify(packed, t.name);
    t.formatting = FormattingIndex(packed);
    return ReadAttributes(i, start_tag && KeepsAttributes(t.tag), t);
  }

  // The attribute states, from after the tag name to just past '>'.
  size_t ReadAttributes(size_t i, bool keep, TagToken& t) {
    for (;;) {
      while (i < n_ && IsHtmlSpace(s_[i])) ++i;
      if (i >= n_) return kEnd;
      if (s_[i] == '>') return i + 1;
      if (s_[i] == '/') {
        ++i;
        if (i < n_ && s_[i] == '>') {
          t.self_closing = true;
          return i + 1;
        }
        continue;
      }
      const size_t name_begin = i++;  // the first character may be '=', as the tokenizer allows
      while (i < n_ && !IsHtmlSpace(s_[i]) && s_[i] != '/' && s_[i] != '>' && s_[i] != '=') ++i;
      const std::string_view name = s_.substr(name_begin, i - name_begin);
      while (i < n_ && IsHtmlSpace(s_[i])) ++i;
      std::string_view value;
      if (i < n_ && s_[i] == '=') {
        ++i;
        while (i < n_ && IsHtmlSpace(s_[i])) ++i;
        if (i >= n_) return kEnd;
        if (s_[i] == '"' || s_[i] == '\'') {
          const void* close = std::memchr(s_.data() + i + 1, s_[i], n_ - i - 1);
          if (close == nullptr) return kEnd;
          const size_t end = static_cast<size_t>(static_cast<const char*>(close) - s_.data());
          value = s_.substr(i + 1, end - i - 1);
          i = end + 1;
        } else {
          const size_t begin = i;
          while (i < n_ && !IsHtmlSpace(s_[i]) && s_[i] != '>') ++i;
          value = s_.substr(begin, i - begin);
        }
      }
      if (keep) Keep(name, value, t);
    }
  }

  static void Keep(std::string_view name, std::string_view value, TagToken& t) {
    Attribute* slot = nullptr;
    switch (name.size()) {
      case 3:
        if (EqualsIgnoreCase(name, "rel")) slot = &t.rel;
        break;
      case 4:
        if (EqualsIgnoreCase(name, "href")) {
          slot = &t.href;
        } else if (EqualsIgnoreCase(name, "name")) {
          slot = &t.name_attr;
        }
        break;
      case 7:
        if (EqualsIgnoreCase(name, "content")) slot = &t.content;
        break;
      case 10:
        if (EqualsIgnoreCase(name, "http-equiv")) slot = &t.http_equiv;
        break;
      default:
        break;
    }
    if (slot != nullptr && !slot->present) *slot = Attribute{value, true};  // the first one counts
  }

  bool InTableProper() const { return !tables_.empty() && tables_.back().where == Where::kTable; }

  // What a start tag in a table, outside its cells, may be without being moved before the table.
  static bool StaysInTable(Tag tag) {
    switch (tag) {
      case Tag::kTable: case Tag::kCaption: case Tag::kColgroup: case Tag::kCol: case Tag::kTbody:
      case Tag::kThead: case Tag::kTfoot: case Tag::kTr: case Tag::kTd: case Tag::kTh:
      case Tag::kStyle: case Tag::kScript: case Tag::kInput: case Tag::kForm: case Tag::kTemplate:
        return true;
      default:
        return false;
    }
  }

  size_t StartTag(size_t name_start) {
    TagToken t;
    const size_t end = ReadTag(name_start, true, t);
    if (end == kEnd) return kEnd;
    if (!foreign_.empty()) return ForeignStartTag(t, end);
    if (InTableProper() && !StaysInTable(t.tag)) return Bail(FastPathBailout::kFosterParent);
    switch (t.tag) {
      case Tag::kA:
      case Tag::kArea:
        if (!Open(t)) return Bail(FastPathBailout::kMisnested);
        if (t.href.present && fields_.WantsLink()) {
          if (!Decode(t.href.raw, true, value_) || !Decode(t.rel.raw, true, value2_)) return Bail(FastPathBailout::kCharRef);
          const std::string_view rel = value2_;
          fields_.Link(value_, t.tag == Tag::kArea, t.rel.present ? &rel : nullptr);
        }
        return end;
      case Tag::kBase:
        if (t.href.present && fields_.WantsBase()) {
          if (!Decode(t.href.raw, true, value_)) return Bail(FastPathBailout::kCharRef);
          fields_.Base(value_);
        }
        return end;
      case Tag::kLink:
        if (t.rel.present && t.href.present && fields_.WantsCanonical()) {
          if (!Decode(t.href.raw, true, value_) || !Decode(t.rel.raw, true, value2_)) return Bail(FastPathBailout::kCharRef);
          fields_.LinkElement(value2_, value_);
        }
        return end;
      case Tag::kMeta:
        if (t.name_attr.present && t.content.present) {
          if (!Decode(t.name_attr.raw, true, value_) || !Decode(t.content.raw, true, value2_)) {
            return Bail(FastPathBailout::kCharRef);
          }
          fields_.Meta(value_, value2_);
        }
        if (t.http_equiv.present && t.content.present && fields_.WantsRefresh()) {
          if (!Decode(t.http_equiv.raw, true, value_) || !Decode(t.content.raw, true, value2_)) {
            return Bail(FastPathBailout::kCharRef);
          }
          fields_.HttpEquiv(value_, value2_);
        }
        return end;
      case Tag::kTitle:
        return Text(end, "title", fields_.WantsTitle());
      case Tag::kTextarea:
      case Tag::kStyle:
      case Tag::kXmp:
      case Tag::kIframe:
      case Tag::kNoembed:
      case Tag::kNoframes:
        return Text(end, t.name, false);
      case Tag::kScript:
        return ScriptData(end);
      case Tag::kPlaintext:
        return kEnd;  // the rest of the input is text
      case Tag::kSvg:
      case Tag::kMath:
        if (!t.self_closing) foreign_.push_back(t.name);
        return end;
      case Tag::kTemplate:
        return Bail(FastPathBailout::kTemplate);
      case Tag::kSelect:
        return Bail(FastPathBailout::kSelect);
      case Tag::kFrameset:
        return Bail(FastPathBailout::kFrameset);
      default:
        if (!Open(t)) return Bail(FastPathBailout::kMisnested);
        TableStartTag(t.tag);
        return end;
    }
  }

  // The stack of open elements, kept so that it holds at least every element gumbo's holds, in
  // order: an element is pushed at its start tag and popped only by an end tag that finds it on
  // top (gumbo also closes elements by implication, which only leaves more here). That is enough to
  // know when the adoption agency cannot move anything: an end tag of a formatting element that is
  // on top, or of one not open at all, and an <a> or <nobr> with none open. Anything else stops.
  struct OpenElement {
    std::string_view name;
    int formatting;  // FormattingIndex, or -1
  };

  // At a start tag (not raw text, not foreign): false if it could reopen a formatting element.
  bool Open(const TagToken& t) {
    const int f = t.formatting;
    if (f == kVoid) return true;
    if ((f == 0 || f == 7) && open_formatting_[f] > 0) return false;  // <a> or <nobr> again
    open_.push_back(OpenElement{t.name, f});
    if (f >= 0) ++open_formatting_[f];
    return true;
  }

  // At an end tag (not foreign): false if the adoption agency could move elements.
  bool Close(const TagToken& t) {
    if (!open_.empty() && EqualsIgnoreCase(open_.back().name, t.name)) {
      if (open_.back().formatting >= 0) --open_formatting_[open_.back().formatting];
      open_.pop_back();
      return true;
    }
    return t.formatting < 0 || open_formatting_[t.formatting] == 0;
  }

  size_t EndTag(size_t name_start) {
    TagToken t;
    const size_t end = ReadTag(name_start, false, t);
    if (end == kEnd) return kEnd;
    if (!foreign_.empty()) return ForeignEndTag(t, end);
    if (!Close(t)) return Bail(FastPathBailout::kMisnested);
    if (!tables_.empty()) TableEndTag(t.tag);
    return end;
  }

  // Plain foreign content: elements of <svg> or <math> other than those that leave it. Their tags
  // are elements of that namespace (an <a> there is not a link), "/>" closes them, and the
  // tokenizer stays in the data state (a <script> or <style> there holds markup).
  static constexpr size_t kMaxForeignDepth = 256;  // an end tag looks down the stack of them
  size_t ForeignStartTag(const TagToken& t, size_t end) {
    if (LeavesForeignContent(t.name)) return Bail(FastPathBailout::kForeignContent);
    if (t.self_closing) return end;
    if (foreign_.size() >= kMaxForeignDepth) return Bail(FastPathBailout::kForeignContent);
    foreign_.push_back(t.name);
    return end;
  }

  // An end tag closes the nearest open foreign element of its name, and those inside it. One that
  // matches none (or </br>, </p>) would go on to HTML's rules: the fast path stops.
  size_t ForeignEndTag(const TagToken& t, size_t end) {
    if (EqualsIgnoreCase(t.name, "br") || EqualsIgnoreCase(t.name, "p")) return Bail(FastPathBailout::kForeignContent);
    for (size_t k = foreign_.size(); k-- > 0;) {
      if (EqualsIgnoreCase(foreign_[k], t.name)) {
        foreign_.resize(k);
        return end;
      }
    }
    return Bail(FastPathBailout::kForeignContent);
  }

  // Table start tags, as the table insertion modes take them. Outside a table, only <table> counts
  // (in body, the others are dropped).
  void TableStartTag(Tag tag) {
    if (tag == Tag::kTable) {
      // In a cell or caption it nests; in the table proper it closes the open one and starts the next.
      if (InTableProper()) tables_.pop_back();
      tables_.push_back(Table{});
      return;
    }
    if (tables_.empty()) return;
    Table& table = tables_.back();
    switch (tag) {
      case Tag::kCaption:
        table.where = Where::kCaption;
        table.group = Tag::kOther;
        break;
      case Tag::kColgroup:
      case Tag::kCol:
        table.where = Where::kTable;
        table.group = Tag::kOther;
        break;
      case Tag::kTbody:
      case Tag::kThead:
      case Tag::kTfoot:
        table.where = Where::kTable;
        table.group = tag;
        break;
      case Tag::kTr:
        table.where = Where::kTable;
        if (table.group == Tag::kOther) table.group = Tag::kTbody;  // implied
        break;
      case Tag::kTd:
      case Tag::kTh:
        table.where = tag == Tag::kTd ? Where::kTd : Where::kTh;
        if (table.group == Tag::kOther) table.group = Tag::kTbody;
        break;
      default:
        break;
    }
  }

  void TableEndTag(Tag tag) {
    Table& table = tables_.back();
    const bool in_cell = table.where == Where::kTd || table.where == Where::kTh;
    switch (tag) {
      case Tag::kTable:
        tables_.pop_back();
        break;
      case Tag::kTd:
        if (table.where == Where::kTd) table.where = Where::kTable;
        break;
      case Tag::kTh:
        if (table.where == Where::kTh) table.where = Where::kTable;
        break;
      case Tag::kCaption:
        if (table.where == Where::kCaption) table.where = Where::kTable;
        break;
      case Tag::kTr:
        if (in_cell) table.where = Where::kTable;  // a cell always has its row open
        break;
      case Tag::kTbody:
      case Tag::kThead:
      case Tag::kTfoot:
        if (table.group != tag || table.where == Where::kCaption) break;  // not open: ignored
        table.where = Where::kTable;
        table.group = Tag::kOther;
        break;
      default:
        break;
    }
  }

  // RCDATA or RAWTEXT after a start tag `name`: up to its end tag. The text is given to the title
  // when `title`. Returns the position after the end tag.
  size_t Text(size_t from, std::string_view name, bool title) {
    size_t at = from;
    size_t text_end = n_;
    size_t next = kEnd;
    for (;;) {
      const void* lt = std::memchr(s_.data() + at, '<', n_ - at);
      if (lt == nullptr) break;
      at = static_cast<size_t>(static_cast<const char*>(lt) - s_.data());
      const size_t after = at + 2 + name.size();
      // At the end of the input, "</title" is text: the tokenizer never saw what ends its name.
      if (after < n_ && s_[at + 1] == '/' && EqualsIgnoreCase(s_.substr(at + 2, name.size()), name) &&
          (IsHtmlSpace(s_[after]) || s_[after] == '/' || s_[after] == '>')) {
        text_end = at;
        TagToken ignored;  // an end tag's attributes are read, and dropped
        next = ReadAttributes(after, false, ignored);
        break;
      }
      ++at;
    }
    if (title && !Decode(s_.substr(from, text_end - from), false, value_)) return Bail(FastPathBailout::kCharRef);
    if (title) fields_.Title(value_);
    return next;
  }

  // If "</script" followed by whitespace, '/' or '>' starts at s_[at]: the position after that end
  // tag (kEnd if the input ends in it). Else kNotEndTag.
  static constexpr size_t kNotEndTag = kEnd - 1;
  size_t ScriptEndTag(size_t at) {
    const size_t after = at + 8;
    if (after >= n_ || s_[at + 1] != '/' || !EqualsIgnoreCase(s_.substr(at + 2, 6), "script")) return kNotEndTag;
    if (!IsHtmlSpace(s_[after]) && s_[after] != '/' && s_[after] != '>') return kNotEndTag;
    TagToken ignored;
    return ReadAttributes(after, false, ignored);
  }

  // After s_[at] (a letter), a run of letters that spells "script" and then whitespace, '/' or '>':
  // returns the position after that character. Else kNotEndTag, with `at` moved past the letters.
  size_t ScriptWord(size_t& at) {
    const size_t begin = at;
    while (at < n_ && IsAsciiAlpha(s_[at])) ++at;
    if (at >= n_ || !EqualsIgnoreCase(s_.substr(begin, at - begin), "script")) return kNotEndTag;
    if (!IsHtmlSpace(s_[at]) && s_[at] != '/' && s_[at] != '>') return kNotEndTag;
    return at + 1;
  }

  // Script data with its escapes ("<!--" ... "-->", and "<script>" inside them, where "</script>"
  // does not end the script). Returns the position after the end tag.
  size_t ScriptData(size_t from) {
    enum State { kData, kEscaped, kEscapedDash, kEscapedDashDash, kDouble, kDoubleDash, kDoubleDashDash };
    State state = kData;
    size_t i = from;
    while (i < n_) {
      const char c = s_[i];
      switch (state) {
        case kData: {
          const void* lt = std::memchr(s_.data() + i, '<', n_ - i);
          if (lt == nullptr) return kEnd;
          i = static_cast<size_t>(static_cast<const char*>(lt) - s_.data());
          if (const size_t end = ScriptEndTag(i); end != kNotEndTag) return end;
          if (s_.compare(i + 1, 3, "!--") == 0) {
            state = kEscapedDashDash;
            i += 4;
          } else {
            ++i;
          }
          continue;
        }
        case kEscaped:
        case kEscapedDash:
        case kEscapedDashDash:
          if (c == '-') {
            state = state == kEscaped ? kEscapedDash : kEscapedDashDash;
            ++i;
          } else if (c == '<') {
            if (const size_t end = ScriptEndTag(i); end != kNotEndTag) return end;
            ++i;
            state = kEscaped;
            if (i < n_ && IsAsciiAlpha(s_[i])) {
              const size_t after = ScriptWord(i);
              if (after != kNotEndTag) {
                state = kDouble;
                i = after;
              }
            }
          } else {
            state = (c == '>' && state == kEscapedDashDash) ? kData : kEscaped;
            ++i;
          }
          continue;
        case kDouble:
        case kDoubleDash:
        case kDoubleDashDash:
          if (c == '-') {
            state = state == kDouble ? kDoubleDash : kDoubleDashDash;
            ++i;
          } else if (c == '<') {
            ++i;
            state = kDouble;
            if (i < n_ && s_[i] == '/') {
              ++i;
              const size_t after = ScriptWord(i);
              if (after != kNotEndTag) {
                state = kEscaped;
                i = after;
              }
            }
          } else {
            state = (c == '>' && state == kDoubleDashDash) ? kData : kDouble;
            ++i;
          }
          continue;
      }
    }
    return kEnd;
  }

  size_t Bail(FastPathBailout why) {
    bail_ = why;
    return kEnd;
  }

  std::string_view s_;
  size_t n_;
  PageFields fields_;
  std::vector<Table> tables_;
  std::vector<std::string_view> foreign_;  // the open <svg> or <math> and the elements inside, by name
  std::vector<OpenElement> open_;           // see Open
  std::array<int, kFormattingCount> open_formatting_{};  // of open_, how many of each formatting element
  std::string value_, value2_;  // decoded attribute values, reused
  FastPathBailout bail_ = FastPathBailout::kNone;
};

}  // namespace

std::string_view FastPathBailoutName(FastPathBailout why) {
  switch (why) {
    case FastPathBailout::kNone: return "";
    case FastPathBailout::kEncoding: return "encoding";
    case FastPathBailout::kForeignContent: return "foreign_content";
    case FastPathBailout::kTemplate: return "template";
    case FastPathBailout::kSelect: return "select";
    case FastPathBailout::kFrameset: return "frameset";
    case FastPathBailout::kFosterParent: return "foster_parent";
    case FastPathBailout::kCharRef: return "char_ref";
    case FastPathBailout::kMisnested: return "misnested";
  }
  return "";
}

FastPathBailout ParseHtmlFastPath(std::string_view html, size_t max_links, ParsedPage& page) {
  if (!ReadsAsIs(html)) return FastPathBailout::kEncoding;
  return FastPath(html, max_links, page).Run();
}

}  // namespace fanout
