#include "util/http_body.h"

#include <gtest/gtest.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

#include "tests/support/status_matchers.h"

namespace fanout {
namespace {

// A page-like text that compresses but not to nothing, so a truncated stream still decodes to something.
std::string Text(size_t bytes) {
  std::string s;
  for (int i = 0; s.size() < bytes; ++i) s += "<p>line " + std::to_string(i * 7919 % 100003) + " of a page</p>\n";
  s.resize(bytes);
  return s;
}

// zlib's deflate with `window_bits`: 15 + 16 gzip, 15 zlib-wrapped, -15 raw. Fed in pieces of `piece`
// bytes `repeat` times, so a 100 MB bomb needs no 100 MB buffer.
std::string Deflate(std::string_view piece, int window_bits, int repeat = 1) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  char buf[64 * 1024];
  for (int i = 0; i < repeat; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    z.avail_in = static_cast<uInt>(piece.size());
    const int flush = i + 1 == repeat ? Z_FINISH : Z_NO_FLUSH;
    int rc = Z_OK;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&z);
  return out;
}
std::string Gzip(std::string_view s) { return Deflate(s, 15 + 16); }

std::string Brotli(std::string_view s) {
  std::string out(BrotliEncoderMaxCompressedSize(s.size()), '\0');
  size_t n = out.size();
  EXPECT_TRUE(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, s.size(),
                                    reinterpret_cast<const uint8_t*>(s.data()), &n, reinterpret_cast<uint8_t*>(out.data())));
  out.resize(n);
  return out;
}

std::string Zstd(std::string_view s) {
  std::string out(ZSTD_compressBound(s.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Streams `repeat` copies of `piece` through one zstd frame.
std::string ZstdRepeated(std::string_view piece, int repeat) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  std::string out;
  char buf[64 * 1024];
  for (int i = 0; i < repeat; ++i) {
    ZSTD_inBuffer in{piece.data(), piece.size(), 0};
    const ZSTD_EndDirective mode = i + 1 == repeat ? ZSTD_e_end : ZSTD_e_continue;
    size_t left = 0;
    do {
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      left = ZSTD_compressStream2(c, &o, &in, mode);
      EXPECT_FALSE(ZSTD_isError(left));
      out.append(buf, o.pos);
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
  }
  ZSTD_freeCCtx(c);
  return out;
}

constexpr size_t kBig = size_t{1} << 30;  // a cap no test body reaches

std::string DecodeOk(std::string_view coding, std::string_view payload) {
  Result<DecodedBody> r = DecodeContent(coding, payload, kBig, false);
  EXPECT_OK(r) << coding;
  if (!r.ok()) return "<error>";
  EXPECT_FALSE(r->cut);
  return r->bytes;
}

TEST(DecodeContent, RoundTripsEachCoding) {
  const std::string text = Text(50000);
  EXPECT_EQ(DecodeOk("gzip", Gzip(text)), text);
  EXPECT_EQ(DecodeOk("x-gzip", Gzip(text)), text);
  EXPECT_EQ(DecodeOk("GZip", Gzip(text)), text);  // coding names are case-insensitive
  EXPECT_EQ(DecodeOk("deflate", Deflate(text, 15)), text);
  EXPECT_EQ(DecodeOk("br", Brotli(text)), text);
  EXPECT_EQ(DecodeOk("zstd", Zstd(text)), text);
  EXPECT_EQ(DecodeOk("identity", text), text);
  EXPECT_EQ(DecodeOk("", text), text);
}

TEST(DecodeContent, DeflateIsReadZlibWrappedOrRaw) {
  const std::string text = Text(20000);
  const std::string wrapped = Deflate(text, 15), raw = Deflate(text, -15);
  // The same deflate data, with and without zlib's 2-byte header and 4-byte Adler-32 trailer.
  ASSERT_EQ(wrapped.substr(2, wrapped.size() - 6), raw);
  EXPECT_EQ(DecodeOk("deflate", wrapped), text);
  EXPECT_EQ(DecodeOk("deflate", raw), text);
}

TEST(DecodeContent, StackedCodingsAreUndoneLastAppliedFirst) {
  const std::string text = Text(30000);
  // "gzip, br": gzip applied first, then br; so br comes off first.
  const std::string payload = Brotli(Gzip(text));
  EXPECT_EQ(DecodeOk("gzip, br", payload), text);
  EXPECT_EQ(DecodeOk("gzip,identity , zstd", Zstd(Gzip(text))), text);
  Result<DecodedBody> wrong_order = DecodeContent("br, gzip", payload, kBig, false);
  ASSERT_FALSE(wrong_order.ok());
  EXPECT_EQ(wrong_order.status().message().rfind("gzip: invalid data", 0), 0u) << wrong_order.status().message();
}

TEST(DecodeContent, ConcatenatedGzipMembersDecodeFully) {
  const std::string a = Text(10000), b = "and a second member\n";
  EXPECT_EQ(DecodeOk("gzip", Gzip(a) + Gzip(b)), a + b);
  EXPECT_EQ(DecodeOk("zstd", Zstd(a) + Zstd(b)), a + b);  // zstd frames too
}

TEST(DecodeContent, TruncatedStreamsFailUnlessIncompleteIsAllowed) {
  // Big enough for several zstd blocks (128 KiB each): zstd yields nothing of a block it has not all of.
  const std::string text = Text(1 << 20);
  struct Case {
    const char* coding;
    std::string payload;
  };
  for (const Case& c : {Case{"gzip", Gzip(text)}, Case{"deflate", Deflate(text, -15)}, Case{"br", Brotli(text)},
                        Case{"zstd", Zstd(text)}}) {
    const std::string half = c.payload.substr(0, c.payload.size() / 2);
    Result<DecodedBody> strict = DecodeContent(c.coding, half, kBig, false);
    ASSERT_FALSE(strict.ok()) << c.coding;
    EXPECT_EQ(strict.status().code(), Status::Code::kCorruption);
    EXPECT_EQ(strict.status().message(), std::string(c.coding) + ": cut short");

    Result<DecodedBody> lenient = DecodeContent(c.coding, half, kBig, true);
    ASSERT_OK(lenient) << c.coding;
    EXPECT_FALSE(lenient->cut);
    EXPECT_GT(lenient->bytes.size(), text.size() / 10) << c.coding;
    EXPECT_LT(lenient->bytes.size(), text.size()) << c.coding;
    EXPECT_EQ(text.compare(0, lenient->bytes.size(), lenient->bytes), 0) << c.coding << ": not a prefix of the text";
  }
}

TEST(DecodeContent, CorruptDataNamesTheCodingAndTheProblem) {
  const std::string junk = "this is not compressed at all, and is long enough to say so";
  for (const char* coding : {"gzip", "br", "zstd"}) {
    Result<DecodedBody> r = DecodeContent(coding, junk, kBig, true);  // incomplete_ok forgives no corruption
    ASSERT_FALSE(r.ok()) << coding;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
    EXPECT_EQ(r.status().message().rfind(std::string(coding) + ": invalid data: ", 0), 0u) << r.status().message();
  }
}

TEST(DecodeContent, ABombStopsAtMaxBytes) {
  const std::string zeros(1 << 20, '\0');
  const std::string gzip_bomb = Deflate(zeros, 15 + 16, 100);  // 100 MiB of zeros
  const std::string zstd_bomb = ZstdRepeated(zeros, 100);
  ASSERT_LT(gzip_bomb.size(), 200000u);
  for (const auto& [coding, bomb] : {std::pair{"gzip", &gzip_bomb}, std::pair{"zstd", &zstd_bomb}}) {
    Result<DecodedBody> r = DecodeContent(coding, *bomb, 3 << 20, false);
    ASSERT_OK(r) << coding;
    EXPECT_TRUE(r->cut) << coding;
    EXPECT_EQ(r->bytes.size(), size_t{3} << 20) << coding;
    EXPECT_EQ(r->bytes.find_first_not_of('\0'), std::string::npos);
    EXPECT_LE(r->bytes.capacity(), (size_t{3} << 20) + (1 << 20)) << coding << ": decoded far past the cap";
  }
}

TEST(DecodeContent, ABodyExactlyAtTheCapIsNotCut) {
  const std::string text = Text(10000);
  Result<DecodedBody> exact = DecodeContent("br", Brotli(text), text.size(), false);
  ASSERT_OK(exact);
  EXPECT_FALSE(exact->cut);
  EXPECT_EQ(exact->bytes, text);
  Result<DecodedBody> over = DecodeContent("br", Brotli(text), text.size() - 1, false);
  ASSERT_OK(over);
  EXPECT_TRUE(over->cut);
  EXPECT_EQ(over->bytes, text.substr(0, text.size() - 1));
  Result<DecodedBody> identity = DecodeContent("identity", text, 100, false);
  ASSERT_OK(identity);
  EXPECT_TRUE(identity->cut);
  EXPECT_EQ(identity->bytes, text.substr(0, 100));
}

TEST(DecodeContent, AnUnknownCodingIsAnError) {
  Result<DecodedBody> r = DecodeContent("gzip, compress", Gzip("x"), kBig, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unknown content coding 'compress'");
}

TEST(DecodeContent, AnEmptyBodyDecodesToNothingUnderAnyCoding) {
  for (const char* coding : {"gzip", "deflate", "br", "zstd"}) EXPECT_EQ(DecodeOk(coding, ""), "");
}

TEST(CanDecode, AcceptsExactlyTheCodingsDecodeContentReads) {
  for (const char* yes : {"", "identity", "gzip", "X-GZIP", "deflate", "br", "zstd", "gzip, br", " zstd ,gzip"}) {
    EXPECT_TRUE(CanDecode(yes)) << yes;
  }
  for (const char* no : {"compress", "gzip, compress", "brotli", "sdch", "x-compress"}) EXPECT_FALSE(CanDecode(no)) << no;
  // Everything we ask for, we can read.
  EXPECT_TRUE(CanDecode(kAcceptEncoding));
}

TEST(Dechunk, RemovesSizesExtensionsAndTrailers) {
  const std::string framed = "4;name=value\r\nWiki\r\n5 ; x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
                             "Expires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Other: 1\r\n\r\n";
  Result<std::string> r = Dechunk(framed, false);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "Wikipedia in\r\n\r\nchunks.");
  Result<std::string> bare_lf = Dechunk("3\nabc\n0\n\n", false);
  ASSERT_OK(bare_lf);
  EXPECT_EQ(*bare_lf, "abc");
}

TEST(Dechunk, ABodyCutMidChunkKeepsWhatCameWhenAllowed) {
  const std::string cut = "4\r\nWiki\r\n5\r\nped";
  Result<std::string> lenient = Dechunk(cut, true);
  ASSERT_OK(lenient);
  EXPECT_EQ(*lenient, "Wikiped");
  Result<std::string> strict = Dechunk(cut, false);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(), "chunked: cut short in a chunk (3 of 5 bytes)");
  // Cut in the trailers: every chunk there, but not the end of the message.
  const std::string in_trailers = "3\r\nabc\r\n0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\n";
  EXPECT_EQ(Dechunk(in_trailers, false).status().message(), "chunked: cut short in the trailers");
  EXPECT_EQ(Dechunk(in_trailers, true).value(), "abc");
  // Cut before the last chunk: complete chunks, but no end.
  EXPECT_FALSE(Dechunk("4\r\nWiki\r\n", false).ok());
  EXPECT_EQ(Dechunk("4\r\nWiki\r\n", true).value(), "Wiki");
}

TEST(Dechunk, BadFramingIsNamed) {
  Result<std::string> bad_size = Dechunk("zz\r\nWiki\r\n0\r\n\r\n", true);
  ASSERT_FALSE(bad_size.ok());
  EXPECT_EQ(bad_size.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(bad_size.status().message(), "chunked: bad chunk size 'zz'");
  Result<std::string> too_long = Dechunk("2\r\nWiki\r\n0\r\n\r\n", true);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("no CRLF after a chunk's data"), std::string::npos);
  Result<std::string> huge = Dechunk("fffffffffffffffffff\r\nx", true);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("too large"), std::string::npos);
}

TEST(IsChunked, LooksAtTheLastTransferCoding) {
  EXPECT_TRUE(IsChunked("chunked"));
  EXPECT_TRUE(IsChunked("Chunked"));
  EXPECT_TRUE(IsChunked("gzip, chunked "));
  EXPECT_FALSE(IsChunked("chunked, gzip"));
  EXPECT_FALSE(IsChunked(""));
  EXPECT_FALSE(IsChunked("identity"));
}

}  // namespace
}  // namespace fanout
