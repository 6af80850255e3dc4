#include "util/http_body.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "util/hex.h"

namespace fanout {
namespace {

// Output grows by this much per decoder call: small enough that a capped decode overshoots by little.
constexpr size_t kStep = 64 * 1024;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The comma-separated tokens of a header value, trimmed; empty ones ("gzip,,br") dropped, as RFC 9110 allows.
std::vector<std::string_view> Tokens(std::string_view value) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = value.find(',');
    std::string_view token = Trim(value.substr(0, comma));
    if (!token.empty()) out.push_back(token);
    if (comma == std::string_view::npos) return out;
    value.remove_prefix(comma + 1);
  }
}

enum class Coding { kIdentity, kGzip, kDeflate, kBrotli, kZstd, kUnknown };

Coding CodingOf(std::string_view token) {
  if (EqualsNoCase(token, "identity")) return Coding::kIdentity;
  if (EqualsNoCase(token, "gzip") || EqualsNoCase(token, "x-gzip")) return Coding::kGzip;
  if (EqualsNoCase(token, "deflate")) return Coding::kDeflate;
  if (EqualsNoCase(token, "br")) return Coding::kBrotli;
  if (EqualsNoCase(token, "zstd")) return Coding::kZstd;
  return Coding::kUnknown;
}

// One decoding stage's output, capped: the decoders write at most limit + 1 bytes, and the extra byte
// tells a body that is exactly `limit` long from one that goes on.
struct Sink {
  std::string out;
  size_t limit;

  bool Full() const { return out.size() > limit; }
  // Makes room for the next call; returns where it starts and how much there is.
  std::pair<char*, size_t> Room() {
    const size_t old = out.size();
    const size_t n = std::min(kStep, limit + 1 - old);
    out.resize(old + n);
    return {out.data() + old, n};
  }
  void Unused(size_t left) { out.resize(out.size() - left); }  // gives back what the call did not fill
};

Status CutShort(std::string_view coding) { return Status::Corruption(std::string(coding) + ": cut short"); }

// RFC 1950 header: deflate method, a window of at most 32 KiB, and a check that makes it a multiple of 31.
// Raw deflate data (what some servers send as "deflate") fails it: a first byte whose low bits are 1000
// would start a non-final stored block, and then the bits above are padding, which encoders leave zero.
bool LooksZlibWrapped(std::string_view in) {
  if (in.size() < 2) return false;
  const auto b0 = static_cast<unsigned char>(in[0]), b1 = static_cast<unsigned char>(in[1]);
  return (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
}

struct InflateEnd {
  void operator()(z_stream* z) const {
    inflateEnd(z);
    delete z;
  }
};

Status Inflate(Coding coding, std::string_view in, bool incomplete_ok, Sink& sink) {
  const char* name = coding == Coding::kGzip ? "gzip" : "deflate";
  const int window_bits = coding == Coding::kGzip ? 15 + 16 : LooksZlibWrapped(in) ? 15 : -15;
  auto raw = new z_stream{};
  if (inflateInit2(raw, window_bits) != Z_OK) {
    delete raw;
    return Status::IOError(std::string(name) + ": zlib could not start");
  }
  std::unique_ptr<z_stream, InflateEnd> z(raw);
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z->avail_in = static_cast<uInt>(in.size());  // bodies are capped far below 4 GiB
  while (!sink.Full()) {
    auto [at, n] = sink.Room();
    z->next_out = reinterpret_cast<Bytef*>(at);
    z->avail_out = static_cast<uInt>(n);
    const int rc = inflate(z.get(), Z_NO_FLUSH);
    sink.Unused(z->avail_out);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated .gz files); anything else after the end is ignored.
      if (coding == Coding::kGzip && z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b) {
        inflateReset(z.get());
        continue;
      }
      return Status::Ok();
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      if (z->avail_in == 0 && z->avail_out != 0) return incomplete_ok ? Status::Ok() : CutShort(name);
      if (rc == Z_BUF_ERROR && z->avail_out != 0) return incomplete_ok ? Status::Ok() : CutShort(name);
      continue;
    }
    return Status::Corruption(std::string(name) + ": invalid data: " + (z->msg ? z->msg : "zlib error " + std::to_string(rc)));
  }
  return Status::Ok();
}

struct BrotliFree {
  void operator()(BrotliDecoderState* s) const { BrotliDecoderDestroyInstance(s); }
};

Status Unbrotli(std::string_view in, bool incomplete_ok, Sink& sink) {
  std::unique_ptr<BrotliDecoderState, BrotliFree> state(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
  if (!state) return Status::IOError("br: the decoder could not start");
  size_t avail_in = in.size();
  auto next_in = reinterpret_cast<const uint8_t*>(in.data());
  while (!sink.Full()) {
    auto [at, n] = sink.Room();
    size_t avail_out = n;
    auto next_out = reinterpret_cast<uint8_t*>(at);
    const BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
    sink.Unused(avail_out);
    switch (rc) {
      case BROTLI_DECODER_RESULT_SUCCESS: return Status::Ok();
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        // With the output full, the decoder may hold more of what it has read: give it room first.
        if (avail_out == 0) continue;
        return incomplete_ok ? Status::Ok() : CutShort("br");
      case BROTLI_DECODER_RESULT_ERROR:
        return Status::Corruption(std::string("br: invalid data: ") +
                                  BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())));
    }
  }
  return Status::Ok();
}

struct ZstdFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

Status Unzstd(std::string_view in, bool incomplete_ok, Sink& sink) {
  std::unique_ptr<ZSTD_DCtx, ZstdFree> ctx(ZSTD_createDCtx());
  if (!ctx) return Status::IOError("zstd: the decoder could not start");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  while (!sink.Full()) {
    auto [at, n] = sink.Room();
    ZSTD_outBuffer output{at, n, 0};
    const size_t rc = ZSTD_decompressStream(ctx.get(), &output, &input);
    sink.Unused(n - output.pos);
    if (ZSTD_isError(rc)) return Status::Corruption(std::string("zstd: invalid data: ") + ZSTD_getErrorName(rc));
    // rc == 0: a frame ended; zstd itself goes on to the next frame if there is more input.
    if (rc == 0 && input.pos == input.size) return Status::Ok();
    // All input read and room left over: the decoder has flushed everything and wants more input.
    if (input.pos == input.size && output.pos < output.size) return incomplete_ok ? Status::Ok() : CutShort("zstd");
  }
  return Status::Ok();
}

bool HexDigit(char c, uint64_t& v) {
  const int value = HexValue(c);
  if (value < 0) return false;
  v = static_cast<uint64_t>(value);
  return true;
}

Status BadChunked(std::string why) { return Status::Corruption("chunked: " + why); }

}  // namespace

ChunkPieces SplitChunks(std::string_view framed) {
  ChunkPieces out;
  auto stop = [&](std::string why, bool cut) {
    out.error = BadChunked(std::move(why));
    out.cut = cut;
    return std::move(out);
  };
  size_t pos = 0;
  // Servers end lines with CRLF; a bare LF is accepted, as curl and browsers accept it.
  auto line_end = [&](size_t from) { return framed.find('\n', from); };
  while (true) {
    const size_t eol = line_end(pos);
    if (eol == std::string_view::npos) return stop("cut short in a chunk size line", true);
    std::string_view line = framed.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    uint64_t size = 0;
    size_t digits = 0;
    for (uint64_t d = 0; digits < line.size() && HexDigit(line[digits], d); ++digits) {
      if (size > (uint64_t{1} << 56)) return stop("chunk size '" + std::string(line) + "' too large", false);
      size = size * 16 + d;
    }
    // After the digits only whitespace and extensions (";name=value") may follow.
    std::string_view rest = Trim(line.substr(digits));
    if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
      return stop("bad chunk size '" + std::string(line.substr(0, 40)) + "'", false);
    }
    pos = eol + 1;
    if (size == 0) {
      // The trailer section: header lines up to an empty line. Nothing in it is entity.
      while (true) {
        const size_t end = line_end(pos);
        if (end == std::string_view::npos) return stop("cut short in the trailers", true);
        std::string_view trailer = framed.substr(pos, end - pos);
        pos = end + 1;
        if (trailer.empty() || trailer == "\r") {
          out.complete = true;
          return out;
        }
      }
    }
    const size_t have = framed.size() - pos;
    if (have < size) {
      if (have > 0) out.pieces.push_back(framed.substr(pos));
      return stop("cut short in a chunk (" + std::to_string(have) + " of " + std::to_string(size) + " bytes)", true);
    }
    out.pieces.push_back(framed.substr(pos, size));
    pos += size;
    std::string_view after = framed.substr(pos, 2);
    if (after == "\r\n") {
      pos += 2;
    } else if (!after.empty() && after[0] == '\n') {
      pos += 1;
    } else if (after.empty() || after == "\r") {
      return stop("cut short after a chunk's data", true);
    } else {
      return stop("no CRLF after a chunk's data (a chunk longer than its size?)", false);
    }
  }
}

Result<std::string> Dechunk(std::string_view framed, bool incomplete_ok) {
  ChunkPieces split = SplitChunks(framed);
  if (!split.error.ok() && !(split.cut && incomplete_ok)) return split.error;
  size_t size = 0;
  for (std::string_view piece : split.pieces) size += piece.size();
  std::string out;
  out.reserve(size);
  for (std::string_view piece : split.pieces) out.append(piece);
  return out;
}

bool IsChunked(std::string_view transfer_encoding) {
  std::vector<std::string_view> codings = Tokens(transfer_encoding);
  return !codings.empty() && EqualsNoCase(codings.back(), "chunked");
}

bool CanDecode(std::string_view content_encoding) {
  for (std::string_view token : Tokens(content_encoding)) {
    if (CodingOf(token) == Coding::kUnknown) return false;
  }
  return true;
}

Result<DecodedBody> DecodeContent(std::string_view content_encoding, std::string_view payload, size_t max_bytes,
                                  bool incomplete_ok) {
  std::vector<std::string_view> tokens = Tokens(content_encoding);
  std::vector<Coding> codings;
  for (std::string_view token : tokens) {
    Coding c = CodingOf(token);
    if (c == Coding::kUnknown) return Status::InvalidArgument("unknown content coding '" + std::string(token) + "'");
    if (c != Coding::kIdentity) codings.push_back(c);
  }
  DecodedBody body;
  if (payload.empty()) return body;
  std::string current;
  std::string_view input = payload;
  bool cut_input = incomplete_ok;
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    Sink sink{{}, max_bytes};
    Status st = *it == Coding::kBrotli ? Unbrotli(input, cut_input, sink)
                : *it == Coding::kZstd ? Unzstd(input, cut_input, sink)
                                       : Inflate(*it, input, cut_input, sink);
    if (!st.ok()) return st;
    if (sink.Full()) {
      sink.out.resize(max_bytes);
      body.cut = true;
      cut_input = true;  // the next stage reads a stream this one stopped short
    }
    current = std::move(sink.out);
    input = current;
  }
  if (codings.empty()) {  // identity: nothing to decode, but the cap still holds
    body.cut = payload.size() > max_bytes;
    current = payload.substr(0, max_bytes);
  }
  body.bytes = std::move(current);
  return body;
}

}  // namespace fanout
