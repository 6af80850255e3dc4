#include "parser/charset.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "parser/ascii.h"
#include "parser/utf8.h"

// How a body is decoded, and why.
//
// The encodings and their labels are the WHATWG Encoding standard's, since that is what the pages were
// written against (browsers), not what IANA registered: "iso-8859-1" is windows-1252 and "shift_jis"
// is CP932 everywhere on the web. Each maps to the glibc iconv converter closest to the standard's
// decoder. Where glibc's tables leave a byte undefined that the standard maps (0x80-0x9F of the
// windows-* code pages are C1 controls there), the standard wins.
//
// UTF-8, the common case, does not go through iconv: it is checked in place, and only when a sequence
// is invalid is the text copied with U+FFFD for each maximal invalid subpart, as the standard's decoder
// does. iconv's own output is checked the same way, so the result is valid UTF-8 whatever glibc does.

namespace fanout {
namespace {

// ---------------------------------------------------------------------------------------------------
// Encodings and labels

struct Encoding {
  std::string_view name;   // the WHATWG name, lower case
  const char* iconv_name;  // glibc's converter; nullptr for UTF-8, which is checked rather than converted
  size_t unit;             // bytes to skip past an invalid sequence: 2 for UTF-16, else 1
  bool c1_controls;        // bytes 0x80-0x9F that glibc leaves undefined are U+0080-U+009F
};

enum EncodingId : uint8_t {
  kUtf8, kUtf16Le, kUtf16Be,
  kIbm866, kIso8859_2, kIso8859_3, kIso8859_4, kIso8859_5, kIso8859_6, kIso8859_7, kIso8859_8,
  kIso8859_8I, kIso8859_10, kIso8859_13, kIso8859_14, kIso8859_15, kIso8859_16, kKoi8R, kKoi8U,
  kMacintosh, kWindows874, kWindows1250, kWindows1251, kWindows1252, kWindows1253, kWindows1254,
  kWindows1255, kWindows1256, kWindows1257, kWindows1258, kMacCyrillic,
  kGbk, kGb18030, kBig5, kEucJp, kIso2022Jp, kShiftJis, kEucKr,
};

// Indexed by EncodingId. The CJK converters are the supersets browsers decode with: GB18030 for gbk,
// BIG5-HKSCS for big5, EUC-JP-MS and CP932 (Microsoft's JIS tables) for euc-jp and shift_jis, CP949
// (Unified Hangul) for euc-kr.
constexpr Encoding kEncodings[] = {
    {"utf-8", nullptr, 1, false},
    {"utf-16le", "UTF-16LE", 2, false},
    {"utf-16be", "UTF-16BE", 2, false},
    {"ibm866", "IBM866", 1, false},
    {"iso-8859-2", "ISO-8859-2", 1, false},
    {"iso-8859-3", "ISO-8859-3", 1, false},
    {"iso-8859-4", "ISO-8859-4", 1, false},
    {"iso-8859-5", "ISO-8859-5", 1, false},
    {"iso-8859-6", "ISO-8859-6", 1, false},
    {"iso-8859-7", "ISO-8859-7", 1, false},
    {"iso-8859-8", "ISO-8859-8", 1, false},
    {"iso-8859-8-i", "ISO-8859-8", 1, false},
    {"iso-8859-10", "ISO-8859-10", 1, false},
    {"iso-8859-13", "ISO-8859-13", 1, false},
    {"iso-8859-14", "ISO-8859-14", 1, false},
    {"iso-8859-15", "ISO-8859-15", 1, false},
    {"iso-8859-16", "ISO-8859-16", 1, false},
    {"koi8-r", "KOI8-R", 1, false},
    {"koi8-u", "KOI8-U", 1, false},
    {"macintosh", "MACINTOSH", 1, false},
    {"windows-874", "CP874", 1, true},
    {"windows-1250", "CP1250", 1, true},
    {"windows-1251", "CP1251", 1, true},
    {"windows-1252", "CP1252", 1, true},
    {"windows-1253", "CP1253", 1, true},
    {"windows-1254", "CP1254", 1, true},
    {"windows-1255", "CP1255", 1, true},
    {"windows-1256", "CP1256", 1, true},
    {"windows-1257", "CP1257", 1, true},
    {"windows-1258", "CP1258", 1, true},
    {"x-mac-cyrillic", "MAC-CYRILLIC", 1, false},
    {"gbk", "GB18030", 1, false},
    {"gb18030", "GB18030", 1, false},
    {"big5", "BIG5-HKSCS", 1, false},
    {"euc-jp", "EUC-JP-MS", 1, false},
    {"iso-2022-jp", "ISO-2022-JP", 1, false},
    {"shift_jis", "CP932", 1, false},
    {"euc-kr", "CP949", 1, false},
};

struct Label {
  std::string_view label;
  EncodingId id;
};

constexpr Label kLabels[] = {
    {"unicode-1-1-utf-8", kUtf8}, {"unicode11utf8", kUtf8}, {"unicode20utf8", kUtf8}, {"utf-8", kUtf8},
    {"utf8", kUtf8}, {"x-unicode20utf8", kUtf8},
    {"csunicode", kUtf16Le}, {"iso-10646-ucs-2", kUtf16Le}, {"ucs-2", kUtf16Le}, {"unicode", kUtf16Le},
    {"unicodefeff", kUtf16Le}, {"utf-16", kUtf16Le}, {"utf-16le", kUtf16Le},
    {"unicodefffe", kUtf16Be}, {"utf-16be", kUtf16Be},
    {"866", kIbm866}, {"cp866", kIbm866}, {"csibm866", kIbm866}, {"ibm866", kIbm866},
    {"csisolatin2", kIso8859_2}, {"iso-8859-2", kIso8859_2}, {"iso-ir-101", kIso8859_2},
    {"iso8859-2", kIso8859_2}, {"iso88592", kIso8859_2}, {"iso_8859-2", kIso8859_2},
    {"iso_8859-2:1987", kIso8859_2}, {"l2", kIso8859_2}, {"latin2", kIso8859_2},
    {"csisolatin3", kIso8859_3}, {"iso-8859-3", kIso8859_3}, {"iso-ir-109", kIso8859_3},
    {"iso8859-3", kIso8859_3}, {"iso88593", kIso8859_3}, {"iso_8859-3", kIso8859_3},
    {"iso_8859-3:1988", kIso8859_3}, {"l3", kIso8859_3}, {"latin3", kIso8859_3},
    {"csisolatin4", kIso8859_4}, {"iso-8859-4", kIso8859_4}, {"iso-ir-110", kIso8859_4},
    {"iso8859-4", kIso8859_4}, {"iso88594", kIso8859_4}, {"iso_8859-4", kIso8859_4},
    {"iso_8859-4:1988", kIso8859_4}, {"l4", kIso8859_4}, {"latin4", kIso8859_4},
    {"csisolatincyrillic", kIso8859_5}, {"cyrillic", kIso8859_5}, {"iso-8859-5", kIso8859_5},
    {"iso-ir-144", kIso8859_5}, {"iso8859-5", kIso8859_5}, {"iso88595", kIso8859_5},
    {"iso_8859-5", kIso8859_5}, {"iso_8859-5:1988", kIso8859_5},
    {"arabic", kIso8859_6}, {"asmo-708", kIso8859_6}, {"csiso88596e", kIso8859_6},
    {"csiso88596i", kIso8859_6}, {"csisolatinarabic", kIso8859_6}, {"ecma-114", kIso8859_6},
    {"iso-8859-6", kIso8859_6}, {"iso-8859-6-e", kIso8859_6}, {"iso-8859-6-i", kIso8859_6},
    {"iso-ir-127", kIso8859_6}, {"iso8859-6", kIso8859_6}, {"iso88596", kIso8859_6},
    {"iso_8859-6", kIso8859_6}, {"iso_8859-6:1987", kIso8859_6},
    {"csisolatingreek", kIso8859_7}, {"ecma-118", kIso8859_7}, {"elot_928", kIso8859_7},
    {"greek", kIso8859_7}, {"greek8", kIso8859_7}, {"iso-8859-7", kIso8859_7}, {"iso-ir-126", kIso8859_7},
    {"iso8859-7", kIso8859_7}, {"iso88597", kIso8859_7}, {"iso_8859-7", kIso8859_7},
    {"iso_8859-7:1987", kIso8859_7}, {"sun_eu_greek", kIso8859_7},
    {"csiso88598e", kIso8859_8}, {"csisolatinhebrew", kIso8859_8}, {"hebrew", kIso8859_8},
    {"iso-8859-8", kIso8859_8}, {"iso-8859-8-e", kIso8859_8}, {"iso-ir-138", kIso8859_8},
    {"iso8859-8", kIso8859_8}, {"iso88598", kIso8859_8}, {"iso_8859-8", kIso8859_8},
    {"iso_8859-8:1988", kIso8859_8}, {"visual", kIso8859_8},
    {"csiso88598i", kIso8859_8I}, {"iso-8859-8-i", kIso8859_8I}, {"logical", kIso8859_8I},
    {"csisolatin6", kIso8859_10}, {"iso-8859-10", kIso8859_10}, {"iso-ir-157", kIso8859_10},
    {"iso8859-10", kIso8859_10}, {"iso885910", kIso8859_10}, {"l6", kIso8859_10}, {"latin6", kIso8859_10},
    {"iso-8859-13", kIso8859_13}, {"iso8859-13", kIso8859_13}, {"iso885913", kIso8859_13},
    {"iso-8859-14", kIso8859_14}, {"iso8859-14", kIso8859_14}, {"iso885914", kIso8859_14},
    {"csisolatin9", kIso8859_15}, {"iso-8859-15", kIso8859_15}, {"iso8859-15", kIso8859_15},
    {"iso885915", kIso8859_15}, {"iso_8859-15", kIso8859_15}, {"l9", kIso8859_15},
    {"iso-8859-16", kIso8859_16},
    {"cskoi8r", kKoi8R}, {"koi", kKoi8R}, {"koi8", kKoi8R}, {"koi8-r", kKoi8R}, {"koi8_r", kKoi8R},
    {"koi8-ru", kKoi8U}, {"koi8-u", kKoi8U},
    {"csmacintosh", kMacintosh}, {"mac", kMacintosh}, {"macintosh", kMacintosh}, {"x-mac-roman", kMacintosh},
    {"dos-874", kWindows874}, {"iso-8859-11", kWindows874}, {"iso8859-11", kWindows874},
    {"iso885911", kWindows874}, {"tis-620", kWindows874}, {"windows-874", kWindows874},
    {"cp1250", kWindows1250}, {"windows-1250", kWindows1250}, {"x-cp1250", kWindows1250},
    {"cp1251", kWindows1251}, {"windows-1251", kWindows1251}, {"x-cp1251", kWindows1251},
    {"ansi_x3.4-1968", kWindows1252}, {"ascii", kWindows1252}, {"cp1252", kWindows1252},
    {"cp819", kWindows1252}, {"csisolatin1", kWindows1252}, {"ibm819", kWindows1252},
    {"iso-8859-1", kWindows1252}, {"iso-ir-100", kWindows1252}, {"iso8859-1", kWindows1252},
    {"iso88591", kWindows1252}, {"iso_8859-1", kWindows1252}, {"iso_8859-1:1987", kWindows1252},
    {"l1", kWindows1252}, {"latin1", kWindows1252}, {"us-ascii", kWindows1252},
    {"windows-1252", kWindows1252}, {"x-cp1252", kWindows1252},
    {"cp1253", kWindows1253}, {"windows-1253", kWindows1253}, {"x-cp1253", kWindows1253},
    {"cp1254", kWindows1254}, {"csisolatin5", kWindows1254}, {"iso-8859-9", kWindows1254},
    {"iso-ir-148", kWindows1254}, {"iso8859-9", kWindows1254}, {"iso88599", kWindows1254},
    {"iso_8859-9", kWindows1254}, {"iso_8859-9:1989", kWindows1254}, {"l5", kWindows1254},
    {"latin5", kWindows1254}, {"windows-1254", kWindows1254}, {"x-cp1254", kWindows1254},
    {"cp1255", kWindows1255}, {"windows-1255", kWindows1255}, {"x-cp1255", kWindows1255},
    {"cp1256", kWindows1256}, {"windows-1256", kWindows1256}, {"x-cp1256", kWindows1256},
    {"cp1257", kWindows1257}, {"windows-1257", kWindows1257}, {"x-cp1257", kWindows1257},
    {"cp1258", kWindows1258}, {"windows-1258", kWindows1258}, {"x-cp1258", kWindows1258},
    {"x-mac-cyrillic", kMacCyrillic}, {"x-mac-ukrainian", kMacCyrillic},
    {"chinese", kGbk}, {"csgb2312", kGbk}, {"csiso58gb231280", kGbk}, {"gb2312", kGbk}, {"gb_2312", kGbk},
    {"gb_2312-80", kGbk}, {"gbk", kGbk}, {"iso-ir-58", kGbk}, {"x-gbk", kGbk},
    {"gb18030", kGb18030},
    {"big5", kBig5}, {"big5-hkscs", kBig5}, {"cn-big5", kBig5}, {"csbig5", kBig5}, {"x-x-big5", kBig5},
    {"cseucpkdfmtjapanese", kEucJp}, {"euc-jp", kEucJp}, {"x-euc-jp", kEucJp},
    {"csiso2022jp", kIso2022Jp}, {"iso-2022-jp", kIso2022Jp},
    {"csshiftjis", kShiftJis}, {"ms932", kShiftJis}, {"ms_kanji", kShiftJis}, {"shift-jis", kShiftJis},
    {"shift_jis", kShiftJis}, {"sjis", kShiftJis}, {"windows-31j", kShiftJis}, {"x-sjis", kShiftJis},
    {"cseuckr", kEucKr}, {"csksc56011987", kEucKr}, {"euc-kr", kEucKr}, {"iso-ir-149", kEucKr},
    {"korean", kEucKr}, {"ks_c_5601-1987", kEucKr}, {"ks_c_5601-1989", kEucKr}, {"ksc5601", kEucKr},
    {"ksc_5601", kEucKr}, {"windows-949", kEucKr},
};

// The whitespace of HTML and of the Encoding standard: tab, LF, FF, CR, space.

bool StartsWithIgnoreCase(std::string_view s, size_t pos, std::string_view prefix) {
  return pos <= s.size() && s.size() - pos >= prefix.size() &&
         EqualsIgnoreCase(s.substr(pos, prefix.size()), prefix);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsHtmlSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsHtmlSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The Encoding standard's "get an encoding".
std::optional<EncodingId> LookupLabel(std::string_view label) {
  label = Trim(label);
  for (const Label& entry : kLabels) {
    if (EqualsIgnoreCase(entry.label, label)) return entry.id;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------
// UTF-8

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Whether a valid UTF-8 sequence starts at s[i]; `length` is its length, or else the length of the
// maximal subpart of a valid sequence there (at least 1), which the standard replaces by one U+FFFD.
bool Utf8SequenceAt(std::string_view s, size_t i, size_t& length) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    length = 1;
    return true;
  }
  size_t trail;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the first trail byte; later ones are 80-BF
  if (b >= 0xC2 && b <= 0xDF) {
    trail = 1;
  } else if (b == 0xE0) {
    trail = 2, lo = 0xA0;  // no overlong forms
  } else if (b == 0xED) {
    trail = 2, hi = 0x9F;  // no surrogates
  } else if (b >= 0xE1 && b <= 0xEF) {
    trail = 2;
  } else if (b == 0xF0) {
    trail = 3, lo = 0x90;
  } else if (b >= 0xF1 && b <= 0xF3) {
    trail = 3;
  } else if (b == 0xF4) {
    trail = 3, hi = 0x8F;  // nothing past U+10FFFF
  } else {
    length = 1;
    return false;
  }
  size_t j = i + 1;
  for (size_t k = 0; k < trail; ++k, ++j) {
    if (j >= s.size()) break;
    auto c = static_cast<unsigned char>(s[j]);
    if (c < lo || c > hi) break;
    lo = 0x80, hi = 0xBF;
  }
  length = j - i;
  return length == trail + 1;
}

// The offset of the first invalid sequence in `s`, or s.size().
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII bytes at a time: most of a page is ASCII.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= s.size()) break;
    size_t length;
    if (!Utf8SequenceAt(s, i, length)) return i;
    i += length;
  }
  return i;
}

// Appends `s` to `out` with each maximal invalid subpart replaced by U+FFFD; returns how many were.
size_t AppendUtf8Lossy(std::string_view s, std::string& out) {
  size_t replaced = 0;
  size_t i = FirstInvalidUtf8(s);
  out.append(s.substr(0, i));
  while (i < s.size()) {
    size_t length;
    size_t start = i;
    while (i < s.size() && Utf8SequenceAt(s, i, length)) i += length;
    out.append(s.substr(start, i - start));
    if (i < s.size()) {
      Utf8SequenceAt(s, i, length);
      out.append(kReplacement);
      ++replaced;
      i += length;
    }
  }
  return replaced;
}

// ---------------------------------------------------------------------------------------------------
// iconv

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
// iconv_t is a pointer type in glibc, so it fits unique_ptr's pointer slot; (iconv_t)-1 is its failure.
using IconvHandle = std::unique_ptr<void, IconvCloser>;

IconvHandle OpenIconvToUtf8(const char* from) {
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) return nullptr;
  return IconvHandle(cd);
}

// Converts `in` to UTF-8 with `cd`, replacing what does not convert. Returns false only if the output
// would pass `max_out` bytes (it cannot, for the converters above: none turns one byte into more than
// four), with what was converted so far in `out`.
bool ConvertWithIconv(iconv_t cd, const Encoding& encoding, std::string_view in, size_t max_out,
                      std::string& out, size_t& replaced) {
  char buffer[16 * 1024];
  // iconv's signature takes char** for its input but only reads through it.
  char* in_ptr = const_cast<char*>(in.data());
  size_t in_left = in.size();
  bool more = true;
  while (more) {
    char* out_ptr = buffer;
    size_t out_left = sizeof buffer;
    size_t rc;
    if (in_left > 0) {
      rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    } else {
      rc = iconv(cd, nullptr, nullptr, &out_ptr, &out_left);  // the final shift sequence, if any
      more = false;
    }
    int error = errno;
    out.append(buffer, static_cast<size_t>(out_ptr - buffer));
    if (out.size() > max_out) return false;
    if (rc != static_cast<size_t>(-1) || error == E2BIG) continue;
    if (in_left == 0) break;  // the final shift sequence failed: there is nothing left to replace
    if (error == EINVAL) {
      // An incomplete sequence ends the input.
      out.append(kReplacement);
      ++replaced;
      in_left = 0;
      more = false;
      continue;
    }
    // EILSEQ, or anything else iconv might say about a position in the input: skip one unit.
    auto b = static_cast<unsigned char>(*in_ptr);
    if (encoding.c1_controls && b >= 0x80 && b <= 0x9F) {
      AppendUtf8(b, out);
    } else {
      out.append(kReplacement);
      ++replaced;
    }
    size_t skip = std::min(encoding.unit, in_left);
    in_ptr += skip;
    in_left -= skip;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// The HTML standard's prescan for <meta> (a byte stream's encoding, "prescan a byte stream")

constexpr size_t kPrescanBytes = 1024;

// The charset that a <meta content> value names ("extracting a character encoding from a meta
// element"), if it is a known label.
std::optional<EncodingId> EncodingFromMetaContent(std::string_view s) {
  size_t pos = 0;
  for (;;) {
    size_t found = std::string_view::npos;
    for (size_t i = pos; i + 7 <= s.size(); ++i) {
      if (StartsWithIgnoreCase(s, i, "charset")) {
        found = i;
        break;
      }
    }
    if (found == std::string_view::npos) return std::nullopt;
    pos = found + 7;
    while (pos < s.size() && IsHtmlSpace(s[pos])) ++pos;
    if (pos >= s.size() || s[pos] != '=') continue;  // "charsetx", look further
    ++pos;
    while (pos < s.size() && IsHtmlSpace(s[pos])) ++pos;
    if (pos >= s.size()) return std::nullopt;
    if (s[pos] == '"' || s[pos] == '\'') {
      size_t end = s.find(s[pos], pos + 1);
      if (end == std::string_view::npos) return std::nullopt;
      return LookupLabel(s.substr(pos + 1, end - pos - 1));
    }
    size_t end = pos;
    while (end < s.size() && !IsHtmlSpace(s[end]) && s[end] != ';') ++end;
    return LookupLabel(s.substr(pos, end - pos));
  }
}

class Prescan {
 public:
  explicit Prescan(std::string_view bytes) : s_(bytes.substr(0, std::min(bytes.size(), kPrescanBytes))) {}

  std::optional<EncodingId> Run() {
    while (pos_ < s_.size() && !ended_) {
      if (s_.compare(pos_, 4, "<!--") == 0) {
        // The comment's "-->" may share its dashes with the "<!--": "<!-->" is a whole comment.
        size_t end = s_.find("-->", pos_ + 2);
        if (end == std::string_view::npos) return std::nullopt;
        pos_ = end + 3;
        continue;
      }
      if (StartsWithIgnoreCase(s_, pos_, "<meta") && pos_ + 5 < s_.size() &&
          (IsHtmlSpace(s_[pos_ + 5]) || s_[pos_ + 5] == '/')) {
        pos_ += 5;
        if (std::optional<EncodingId> id = Meta()) return id;
      } else if (pos_ + 1 < s_.size() && s_[pos_] == '<' &&
                 (IsAsciiAlpha(s_[pos_ + 1]) ||
                  (s_[pos_ + 1] == '/' && pos_ + 2 < s_.size() && IsAsciiAlpha(s_[pos_ + 2])))) {
        // Another tag: skip its attributes, so that a "<meta" in their values is not one.
        while (pos_ < s_.size() && !IsHtmlSpace(s_[pos_]) && s_[pos_] != '>') ++pos_;
        std::string name, value;
        while (GetAttribute(name, value)) {
        }
      } else if (s_.compare(pos_, 2, "<!") == 0 || s_.compare(pos_, 2, "</") == 0 ||
                 s_.compare(pos_, 2, "<?") == 0) {
        size_t end = s_.find('>', pos_ + 1);
        if (end == std::string_view::npos) return std::nullopt;
        pos_ = end;
      }
      ++pos_;
    }
    return std::nullopt;
  }

 private:
  static bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  // The attributes of a <meta> whose name has just been read; the encoding it declares, if any.
  std::optional<EncodingId> Meta() {
    std::vector<std::string> seen;
    bool got_pragma = false;
    std::optional<bool> need_pragma;
    std::optional<EncodingId> charset;
    std::string name, value;
    while (GetAttribute(name, value)) {
      bool repeated = false;
      for (const std::string& s : seen) repeated = repeated || s == name;
      if (repeated) continue;  // the first of an attribute counts, as in the tree
      seen.push_back(name);
      if (name == "http-equiv") {
        got_pragma = got_pragma || value == "content-type";
      } else if (name == "content") {
        std::optional<EncodingId> id = EncodingFromMetaContent(value);
        if (id && !charset) {
          charset = id;
          need_pragma = true;
        }
      } else if (name == "charset") {
        charset = LookupLabel(value);
        need_pragma = false;
      }
    }
    if (ended_ || !need_pragma || (*need_pragma && !got_pragma) || !charset) return std::nullopt;
    // A document the prescan can read is not UTF-16, whatever it says.
    if (*charset == kUtf16Le || *charset == kUtf16Be) return kUtf8;
    return charset;
  }

  // The standard's "get an attribute": false when there are no more (at '>', or at the end of the
  // prescanned bytes, which also ends the prescan). Names and values are lower-cased, as it says.
  bool GetAttribute(std::string& name, std::string& value) {
    name.clear();
    value.clear();
    while (pos_ < s_.size() && (IsHtmlSpace(s_[pos_]) || s_[pos_] == '/')) ++pos_;
    if (AtEnd() || s_[pos_] == '>') return false;
    for (;;) {
      if (AtEnd()) return false;
      char c = s_[pos_];
      if (c == '=' && !name.empty()) {
        ++pos_;
        return GetValue(value);
      }
      if (IsHtmlSpace(c)) break;
      if (c == '/' || c == '>') return true;
      name += AsciiLower(c);
      ++pos_;
    }
    while (pos_ < s_.size() && IsHtmlSpace(s_[pos_])) ++pos_;
    if (AtEnd()) return false;
    if (s_[pos_] != '=') return true;  // a name without a value
    ++pos_;
    return GetValue(value);
  }

  bool GetValue(std::string& value) {
    while (pos_ < s_.size() && IsHtmlSpace(s_[pos_])) ++pos_;
    if (AtEnd()) return false;
    char c = s_[pos_];
    if (c == '"' || c == '\'') {
      char quote = c;
      for (++pos_;; ++pos_) {
        if (AtEnd()) return false;
        if (s_[pos_] == quote) {
          ++pos_;
          return true;
        }
        value += AsciiLower(s_[pos_]);
      }
    }
    for (;; ++pos_) {
      if (AtEnd()) return false;
      if (IsHtmlSpace(s_[pos_]) || s_[pos_] == '>') return true;
      value += AsciiLower(s_[pos_]);
    }
  }

  bool AtEnd() {
    if (pos_ < s_.size()) return false;
    ended_ = true;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool ended_ = false;  // an attribute ran past the prescanned bytes: no encoding is declared
};

// ---------------------------------------------------------------------------------------------------

// Decodes `body` as `id`; false if iconv has no converter for it (the caller tries the next source).
// Decodes `body` as `id` into result. `owned`, when not null, is the string `body` views: valid UTF-8
// is then moved into the result rather than copied (most pages are).
bool Decode(std::string_view body, EncodingId id, DecodedText& result, std::string* owned = nullptr) {
  const Encoding& encoding = kEncodings[id];
  result.utf8.clear();
  result.replaced = 0;
  if (encoding.iconv_name == nullptr) {
    if (owned != nullptr && owned->data() == body.data() && owned->size() == body.size() &&
        FirstInvalidUtf8(body) == body.size()) {
      result.utf8 = std::move(*owned);
    } else {
      result.replaced = AppendUtf8Lossy(body, result.utf8);
    }
  } else {
    IconvHandle cd = OpenIconvToUtf8(encoding.iconv_name);
    if (!cd) return false;
    // One byte becomes at most 4 (a CJK pair becoming two code points, or a U+FFFD for a byte).
    const size_t max_out = 4 * body.size() + 16;
    result.utf8.reserve(body.size() + body.size() / 2);
    ConvertWithIconv(static_cast<iconv_t>(cd.get()), encoding, body, max_out, result.utf8, result.replaced);
    if (FirstInvalidUtf8(result.utf8) != result.utf8.size()) {
      std::string checked;
      result.replaced += AppendUtf8Lossy(result.utf8, checked);
      result.utf8 = std::move(checked);
    }
  }
  result.charset = encoding.name;
  return true;
}

DecodedText DecodeBody(std::string_view body, std::string_view content_type, std::string* owned) {
  DecodedText result;

  // A BOM decides, and is not part of the text.
  std::optional<EncodingId> bom;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") {
    bom = kUtf8;
  } else if (body.substr(0, 2) == "\xFE\xFF") {
    bom = kUtf16Be;
  } else if (body.substr(0, 2) == "\xFF\xFE") {
    bom = kUtf16Le;
  }
  if (bom) {
    std::string_view text = body.substr(*bom == kUtf8 ? 3 : 2);
    if (Decode(text, *bom, result)) {
      result.source = "bom";
      return result;
    }
  }

  if (std::optional<EncodingId> id = LookupLabel(CharsetFromContentType(content_type))) {
    if (Decode(body, *id, result, owned)) {
      result.source = "header";
      return result;
    }
  }

  if (std::optional<EncodingId> id = Prescan(body).Run()) {
    if (Decode(body, *id, result, owned)) {
      result.source = "meta";
      return result;
    }
  }

  Decode(body, kUtf8, result, owned);
  result.source = "default";
  return result;
}

}  // namespace

std::string CharsetFromContentType(std::string_view content_type) {
  const std::string_view s = content_type;
  size_t pos = s.find(';');
  while (pos != std::string_view::npos && pos < s.size()) {
    ++pos;  // past the ';'
    while (pos < s.size() && IsHtmlSpace(s[pos])) ++pos;
    size_t name_start = pos;
    while (pos < s.size() && s[pos] != '=' && s[pos] != ';') ++pos;
    std::string_view name = Trim(s.substr(name_start, pos - name_start));
    if (pos >= s.size() || s[pos] == ';') continue;  // a parameter without a value
    ++pos;                                           // past the '='
    while (pos < s.size() && IsHtmlSpace(s[pos])) ++pos;
    std::string value;
    if (pos < s.size() && s[pos] == '"') {
      // A quoted string: backslash escapes the next character; an unclosed one runs to the end.
      for (++pos; pos < s.size() && s[pos] != '"'; ++pos) {
        if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
        value += s[pos];
      }
      pos = s.find(';', pos);
    } else {
      size_t end = s.find(';', pos);
      value = std::string(Trim(s.substr(pos, end == std::string_view::npos ? end : end - pos)));
      pos = end;
    }
    if (EqualsIgnoreCase(name, "charset") && !value.empty()) return value;
  }
  return "";
}

std::string CanonicalCharset(std::string_view label) {
  std::optional<EncodingId> id = LookupLabel(label);
  return id ? std::string(kEncodings[*id].name) : std::string();
}

DecodedText DecodeToUtf8(std::string_view body, std::string_view content_type) {
  return DecodeBody(body, content_type, nullptr);
}

DecodedText DecodeOwnedToUtf8(std::string&& body, std::string_view content_type) {
  return DecodeBody(body, content_type, &body);
}

}  // namespace fanout
