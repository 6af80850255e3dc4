// HTTP body decoding: undoing the transfer coding (chunked) and the content codings (gzip, deflate, br,
// zstd) of a response body received exactly as the server sent it.
//
// The crawler keeps bodies as sent, for WARC archiving, so libcurl decodes nothing (its content and
// transfer decoding are off); these functions give the parser the bytes it reads. All of them are
// pure functions of their arguments: no state, safe from any thread.
//
// Hostile input is the normal case: every decoder stops at a size cap (a decompression bomb costs at
// most that much memory) and says what is wrong rather than guessing. A body cut short on the wire
// (a size cap, a dropped connection) can still be decoded as far as it goes, on request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace fanout {

// What the crawler asks servers for (Accept-Encoding): the codings DecodeContent reads.
inline constexpr const char* kAcceptEncoding = "gzip, deflate, br, zstd";

// Removes HTTP/1.1 chunked transfer framing: chunk sizes, chunk extensions (";name=value") and the
// trailer section after the last chunk. Bytes after the trailers are ignored.
// `incomplete_ok`: the body was cut short, so return the data of the chunks received, the last one
// possibly partial, instead of an error.
// Errors (kCorruption): "chunked: ..." naming the problem: a bad chunk size, a chunk not followed by
// CRLF, or (without incomplete_ok) a body that ends before the last chunk.
Result<std::string> Dechunk(std::string_view framed, bool incomplete_ok);

// Dechunk's work without the copy: the chunk data of `framed`, in order, as views into it, up to
// where the framing ends or stops (cut short, or broken), for readers that only look at the
// entity (a digest). Dechunk is these pieces joined, or `error`.
struct ChunkPieces {
  std::vector<std::string_view> pieces;  // the last one partial when the body was cut inside it
  bool complete = false;  // the last chunk and the trailer section were read
  bool cut = false;       // the body ended before that: what a cut transfer gives
  Status error;           // why it stopped early (cut short or broken framing); Ok when complete
};
ChunkPieces SplitChunks(std::string_view framed);

// Whether the Transfer-Encoding header value ends in "chunked" (case-insensitive): the only framing
// HTTP/1.1 allows as the last coding, and the one that makes the body chunked.
bool IsChunked(std::string_view transfer_encoding);

// Whether every coding in a Content-Encoding value is one DecodeContent reads: gzip, x-gzip,
// deflate (zlib-wrapped or raw: servers send both), br, zstd and identity, case-insensitive.
// "" is identity.
bool CanDecode(std::string_view content_encoding);

struct DecodedBody {
  std::string bytes;
  bool cut = false;  // the decoded body is longer than max_bytes and was stopped there
};

// Undoes the codings of a Content-Encoding value, the last applied first ("gzip, br": br, then gzip).
// Output stops at `max_bytes` with `cut` set; with stacked codings each stage stops there, and a cut
// stage makes the next read what it got as cut short. An empty payload decodes to an empty body
// under any coding (servers label the empty bodies of 204s and HEADs too).
// Concatenated gzip members (and zstd frames) decode fully; bytes after the end of a gzip or br stream
// that do not start another gzip member are ignored, as browsers do.
// `incomplete_ok`: the payload was cut short, so decode what there is instead of failing.
// Errors: kCorruption naming the coding and the problem ("gzip: invalid data: incorrect header check",
// "br: cut short"); kInvalidArgument for a coding CanDecode refuses ("unknown content coding 'compress'").
Result<DecodedBody> DecodeContent(std::string_view content_encoding, std::string_view payload, size_t max_bytes,
                                  bool incomplete_ok);

}  // namespace fanout
