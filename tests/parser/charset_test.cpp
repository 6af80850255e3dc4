#include "parser/charset.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fanout {
namespace {

using namespace std::string_literals;

// Whether `s` is valid UTF-8 (RFC 3629: shortest forms, no surrogates, nothing past U+10FFFF), written
// from the code-point side, independently of the decoder's byte-range tables.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (b < 0x80) {
      n = 0, cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

TEST(IsValidUtf8, AcceptsAndRejectsWhatItShould) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

// ---------------------------------------------------------------------------------------------------
// Labels

TEST(CharsetFromContentType, ReturnsTheCharsetParameter) {
  EXPECT_EQ(CharsetFromContentType("text/html; charset=utf-8"), "utf-8");
  EXPECT_EQ(CharsetFromContentType("text/html;charset=ISO-8859-1"), "ISO-8859-1");
  EXPECT_EQ(CharsetFromContentType("text/html; CharSet = windows-1252 ; foo=bar"), "windows-1252");
  EXPECT_EQ(CharsetFromContentType("text/html; foo=bar; charset=euc-jp"), "euc-jp");
}

TEST(CharsetFromContentType, UnquotesQuotedValues) {
  EXPECT_EQ(CharsetFromContentType("text/html; charset=\"Shift_JIS\""), "Shift_JIS");
  EXPECT_EQ(CharsetFromContentType(R"(text/html; x="a;charset=b"; charset="s\"jis")"), "s\"jis");
  EXPECT_EQ(CharsetFromContentType("text/html; charset=\"unclosed"), "unclosed");
}

TEST(CharsetFromContentType, ReturnsEmptyWhenThereIsNone) {
  EXPECT_EQ(CharsetFromContentType(""), "");
  EXPECT_EQ(CharsetFromContentType("text/html"), "");
  EXPECT_EQ(CharsetFromContentType("text/html; charset="), "");
  EXPECT_EQ(CharsetFromContentType("text/html; charset"), "");
  EXPECT_EQ(CharsetFromContentType("text/html; charsets=utf-8"), "");
  EXPECT_EQ(CharsetFromContentType("text/html; charset=; charset=koi8-r"), "koi8-r");
}

TEST(CharsetFromContentType, KeepsTheFirstOfTwo) {
  EXPECT_EQ(CharsetFromContentType("text/html; charset=utf-8; charset=latin1"), "utf-8");
}

TEST(CanonicalCharset, MapsLabelsAsTheEncodingStandardDoes) {
  for (const char* label :
       {"latin1", "ISO-8859-1", "iso_8859-1", "us-ascii", "ASCII", "cp1252", "windows-1252"}) {
    EXPECT_EQ(CanonicalCharset(label), "windows-1252") << label;
  }
  for (const char* label : {"sjis", "x-sjis", "Shift_JIS", "ms_kanji", "windows-31j", "shift-jis"}) {
    EXPECT_EQ(CanonicalCharset(label), "shift_jis") << label;
  }
  EXPECT_EQ(CanonicalCharset("UTF8"), "utf-8");
  EXPECT_EQ(CanonicalCharset(" \tutf-8\n"), "utf-8");
  EXPECT_EQ(CanonicalCharset("utf-16"), "utf-16le");
  EXPECT_EQ(CanonicalCharset("gb2312"), "gbk");
  EXPECT_EQ(CanonicalCharset("iso-8859-9"), "windows-1254");
  EXPECT_EQ(CanonicalCharset("EUC-JP"), "euc-jp");
  EXPECT_EQ(CanonicalCharset("latin2"), "iso-8859-2");
  EXPECT_EQ(CanonicalCharset("klingon"), "");
  EXPECT_EQ(CanonicalCharset(""), "");
  EXPECT_EQ(CanonicalCharset("utf 8"), "");
}

// ---------------------------------------------------------------------------------------------------
// Where the encoding comes from

TEST(DecodeToUtf8, ReadsIso88591HeaderAsWindows1252) {
  DecodedText text = DecodeToUtf8("<p>\x93quoted\x94 caf\xE9</p>", "text/html; charset=iso-8859-1");
  EXPECT_EQ(text.utf8, "<p>\xE2\x80\x9Cquoted\xE2\x80\x9D caf\xC3\xA9</p>");
  EXPECT_EQ(text.charset, "windows-1252");
  EXPECT_EQ(text.source, "header");
  EXPECT_EQ(text.replaced, 0u);
}

TEST(DecodeToUtf8, MapsWindows1252BytesThatGlibcLeavesUndefinedToC1Controls) {
  DecodedText text = DecodeToUtf8("a\x81\x8D\x8F\x90\x9D" "b", "text/html; charset=windows-1252");
  EXPECT_EQ(text.utf8, "a\xC2\x81\xC2\x8D\xC2\x8F\xC2\x90\xC2\x9D" "b");
  EXPECT_EQ(text.replaced, 0u);
}

TEST(DecodeToUtf8, ReadsShiftJisFromMetaCharset) {
  // <title>日本語のページ</title> in Shift_JIS.
  std::string body =
      "<!DOCTYPE html><html><head><meta charset=\"Shift_JIS\">"
      "<title>\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x79\x81\x5b\x83\x57</title></head></html>";
  DecodedText text = DecodeToUtf8(body, "text/html");
  EXPECT_EQ(text.charset, "shift_jis");
  EXPECT_EQ(text.source, "meta");
  EXPECT_EQ(text.replaced, 0u);
  EXPECT_NE(text.utf8.find("<title>日本語のページ</title>"), std::string::npos) << text.utf8;
}

TEST(DecodeToUtf8, DecodesShiftJisAsCp932LikeBrowsers) {
  // 0x8160 is U+FF5E (fullwidth tilde) in CP932, where JIS X 0208 says U+301C; 0x8740 (circled 1) is
  // an NEC extension that plain Shift_JIS lacks.
  DecodedText text = DecodeToUtf8("\x81\x60\x87\x40", "text/html; charset=shift_jis");
  EXPECT_EQ(text.utf8, "\xEF\xBD\x9E\xE2\x91\xA0");
  EXPECT_EQ(text.replaced, 0u);
}

TEST(DecodeToUtf8, ReadsMetaHttpEquivContentType) {
  // 日本 in EUC-JP.
  std::string body =
      "<html><head><META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=EUC-JP'>"
      "<title>\xc6\xfc\xcb\xdc</title>";
  DecodedText text = DecodeToUtf8(body, "");
  EXPECT_EQ(text.charset, "euc-jp");
  EXPECT_EQ(text.source, "meta");
  EXPECT_NE(text.utf8.find("<title>日本</title>"), std::string::npos) << text.utf8;
}

TEST(DecodeToUtf8, IgnoresMetaContentWithoutHttpEquiv) {
  DecodedText text = DecodeToUtf8("<meta content='text/html; charset=koi8-r'>", "");
  EXPECT_EQ(text.source, "default");
  EXPECT_EQ(text.charset, "utf-8");
}

TEST(DecodeToUtf8, ReadsMetaWithOddButValidSyntax) {
  EXPECT_EQ(DecodeToUtf8("<meta/charset=latin2>", "").charset, "iso-8859-2");
  EXPECT_EQ(DecodeToUtf8("<meta name=x charset = ' KOI8-R '>", "").charset, "koi8-r");
  EXPECT_EQ(DecodeToUtf8("<meta http-equiv=content-type content=\"text/html;charset = 'gbk'\">", "").charset,
            "gbk");
  // The first of a repeated attribute counts.
  EXPECT_EQ(DecodeToUtf8("<meta charset=latin2 charset=koi8-r>", "").charset, "iso-8859-2");
}

TEST(DecodeToUtf8, SkipsMetasInCommentsAndAttributeValues) {
  DecodedText text = DecodeToUtf8(
      "<!-- <meta charset=koi8-r> --><div title='<meta charset=latin2>'></div><meta charset=windows-1251>", "");
  EXPECT_EQ(text.charset, "windows-1251");
  EXPECT_EQ(DecodeToUtf8("<!--><meta charset=koi8-r>", "").charset, "koi8-r");  // "<!-->" is a whole comment
}

TEST(DecodeToUtf8, LooksForMetaOnlyInTheFirst1024Bytes) {
  std::string padding(1024, ' ');
  EXPECT_EQ(DecodeToUtf8(padding + "<meta charset=koi8-r>", "").source, "default");
  EXPECT_EQ(DecodeToUtf8(std::string(1000, ' ') + "<meta charset=koi8-r>", "").source, "meta");
  // A meta cut off by the 1024th byte declares nothing.
  EXPECT_EQ(DecodeToUtf8(std::string(1010, ' ') + "<meta charset=koi8-r>", "").source, "default");
}

TEST(DecodeToUtf8, TakesMetaUtf16AsUtf8) {
  DecodedText text = DecodeToUtf8("<meta charset=utf-16><p>caf\xC3\xA9</p>", "");
  EXPECT_EQ(text.charset, "utf-8");
  EXPECT_EQ(text.source, "meta");
  EXPECT_EQ(text.utf8, "<meta charset=utf-16><p>caf\xC3\xA9</p>");
}

TEST(DecodeToUtf8, LetsBomBeatHeader) {
  DecodedText text = DecodeToUtf8("\xEF\xBB\xBF<p>caf\xC3\xA9</p>", "text/html; charset=windows-1252");
  EXPECT_EQ(text.charset, "utf-8");
  EXPECT_EQ(text.source, "bom");
  EXPECT_EQ(text.utf8, "<p>caf\xC3\xA9</p>");  // without the BOM

  DecodedText le = DecodeToUtf8("\xFF\xFE<\0p\0>\0\xE9\0"s, "text/html; charset=shift_jis");
  EXPECT_EQ(le.charset, "utf-16le");
  EXPECT_EQ(le.source, "bom");
  EXPECT_EQ(le.utf8, "<p>\xC3\xA9");
}

TEST(DecodeToUtf8, DecodesUtf16BeSurrogatePairsAndReplacesLoneOnes) {
  // U+1F600 as a pair, then a lone high surrogate before 'A', then an odd byte at the end.
  DecodedText text = DecodeToUtf8("\xFE\xFF\xD8\x3D\xDE\x00\xD8\x3D\x00\x41\x00"s, "");
  EXPECT_EQ(text.charset, "utf-16be");
  EXPECT_TRUE(IsValidUtf8(text.utf8));
  EXPECT_EQ(text.utf8.substr(0, 4), "\xF0\x9F\x98\x80");
  EXPECT_NE(text.utf8.find("A"), std::string::npos);
  EXPECT_GE(text.replaced, 2u);
}

TEST(DecodeToUtf8, LetsHeaderBeatMeta) {
  DecodedText text = DecodeToUtf8("<meta charset=shift_jis><p>caf\xE9</p>", "text/html; charset=latin1");
  EXPECT_EQ(text.charset, "windows-1252");
  EXPECT_EQ(text.source, "header");
  EXPECT_EQ(text.utf8, "<meta charset=shift_jis><p>caf\xC3\xA9</p>");
}

TEST(DecodeToUtf8, FallsThroughUnknownLabels) {
  DecodedText from_meta = DecodeToUtf8("<meta charset=latin1><p>caf\xE9</p>", "text/html; charset=x-klingon");
  EXPECT_EQ(from_meta.charset, "windows-1252");
  EXPECT_EQ(from_meta.source, "meta");
  EXPECT_EQ(from_meta.utf8, "<meta charset=latin1><p>caf\xC3\xA9</p>");

  DecodedText by_default = DecodeToUtf8("<meta charset=x-klingon><p>ok</p>", "text/html; charset=\"\"");
  EXPECT_EQ(by_default.charset, "utf-8");
  EXPECT_EQ(by_default.source, "default");
}

TEST(DecodeToUtf8, PassesValidUtf8Through) {
  std::string body = "<p>caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80</p>";
  DecodedText text = DecodeToUtf8(body, "text/html; charset=UTF-8");
  EXPECT_EQ(text.utf8, body);
  EXPECT_EQ(text.charset, "utf-8");
  EXPECT_EQ(text.source, "header");
  EXPECT_EQ(text.replaced, 0u);
}

// ---------------------------------------------------------------------------------------------------
// Bytes that do not decode

TEST(DecodeToUtf8, ReplacesInvalidUtf8) {
  // A stray continuation, an overlong form, a surrogate, a lead byte cut by ASCII: one U+FFFD per
  // maximal invalid subpart, as the Encoding standard counts them.
  DecodedText text = DecodeToUtf8("a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE6\x97" "e", "");
  EXPECT_EQ(text.utf8,
            "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "d\xEF\xBF\xBD" "e");
  EXPECT_EQ(text.replaced, 7u);
  EXPECT_EQ(text.charset, "utf-8");
}

TEST(DecodeToUtf8, ReplacesInvalidShiftJis) {
  // 日, then a lead byte followed by a byte that cannot trail, then 0xFD (never valid), then 本.
  DecodedText text = DecodeToUtf8("\x93\xfa\x81\x20\xfd\x96\x7b", "text/html; charset=sjis");
  EXPECT_EQ(text.charset, "shift_jis");
  EXPECT_GT(text.replaced, 0u);
  EXPECT_TRUE(IsValidUtf8(text.utf8));
  EXPECT_EQ(text.utf8.substr(0, 3), "日");
  EXPECT_EQ(text.utf8.substr(text.utf8.size() - 3), "本");
  EXPECT_NE(text.utf8.find(' '), std::string::npos);  // the ASCII byte after the bad lead survives
}

TEST(DecodeToUtf8, ReplacesMultibyteTruncatedAtTheEnd) {
  DecodedText utf8 = DecodeToUtf8("ok\xE6\x97", "");
  EXPECT_EQ(utf8.utf8, "ok\xEF\xBF\xBD");
  EXPECT_EQ(utf8.replaced, 1u);

  DecodedText sjis = DecodeToUtf8("\x93\xfa\x96", "text/html; charset=shift_jis");
  EXPECT_EQ(sjis.utf8, "日\xEF\xBF\xBD");
  EXPECT_EQ(sjis.replaced, 1u);

  DecodedText euc = DecodeToUtf8("\xc6\xfc\xcb", "text/html; charset=euc-jp");
  EXPECT_EQ(euc.utf8, "日\xEF\xBF\xBD");
  EXPECT_EQ(euc.replaced, 1u);
}

TEST(DecodeToUtf8, DecodesAnEmptyBody) {
  for (std::string_view content_type : {"", "text/html; charset=shift_jis", "text/html; charset=utf-16be"}) {
    DecodedText text = DecodeToUtf8("", content_type);
    EXPECT_EQ(text.utf8, "");
    EXPECT_EQ(text.replaced, 0u);
    EXPECT_FALSE(text.charset.empty());
  }
  EXPECT_EQ(DecodeToUtf8("", "").source, "default");
  EXPECT_EQ(DecodeToUtf8("\xEF\xBB\xBF", "").utf8, "");
}

TEST(DecodeToUtf8, KeepsNulBytes) {
  DecodedText text = DecodeToUtf8("a\0b"s, "text/html; charset=windows-1252");
  EXPECT_EQ(text.utf8, "a\0b"s);
}

TEST(DecodeToUtf8, ReturnsBoundedValidUtf8ForRandomBytes) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> content_types = {
      "", "text/html; charset=shift_jis", "text/html; charset=euc-jp", "text/html; charset=iso-2022-jp",
      "text/html; charset=gb18030", "text/html; charset=big5", "text/html; charset=euc-kr",
      "text/html; charset=windows-1252", "text/html; charset=iso-8859-3", "text/html; charset=utf-16le",
      "text/html; charset=utf-16be", "text/html; charset=windows-1253", "text/html; charset=koi8-u"};
  // Prefixes that steer the sniffing: BOMs and metas.
  const std::vector<std::string> prefixes = {"", "\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF", "<meta charset=sjis>",
                                             "<meta charset=utf-16>", "<!--", "<meta http-equiv=content-type "};
  for (int round = 0; round < 4000; ++round) {
    std::string body = prefixes[rng() % prefixes.size()];
    size_t length = rng() % 300;
    // Some rounds draw from a small alphabet so that markup and multibyte leads meet more often.
    bool small_alphabet = round % 3 == 0;
    static constexpr char kAlphabet[] = "<>=/'\" !-?\x1b$B(\x81\x93\xE6\xC3\x8E\xA1\xFF\xD8\xDC";
    for (size_t i = 0; i < length; ++i) {
      body += small_alphabet ? kAlphabet[rng() % (sizeof kAlphabet - 1)] : static_cast<char>(rng() & 0xFF);
    }
    const std::string& content_type = content_types[round % content_types.size()];
    DecodedText text = DecodeToUtf8(body, content_type);
    ASSERT_TRUE(IsValidUtf8(text.utf8)) << "round " << round << " (" << content_type << ")";
    ASSERT_LE(text.utf8.size(), 4 * body.size() + 16) << "round " << round;
    ASSERT_FALSE(text.charset.empty());
    ASSERT_FALSE(text.source.empty());
  }
}

}  // namespace
}  // namespace fanout
