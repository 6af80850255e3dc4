// Fault rules: the ways `fanout serve` misbehaves on purpose, so crawlers can be tested on them.
//
// A rule is `KIND[:ARGS]@WHERE`. WHERE is a path ("/a.html", matched on the path alone, query
// ignored), a path prefix ending in '*' ("/slow/*"), or a rate in [0, 1] ("0.05": that share of
// all requests, drawn per request). KINDs:
//   status:CODE[:RETRY_AFTER]   answer CODE (429 and 503 carry Retry-After, default 1 s)
//   redirect:CODE:TARGET        a 301/302/303/307/308 to TARGET
//   chain:N:TARGET              N hops of 302 (PATH?hop=1 .. ?hop=N), then TARGET
//   loop                        302 PATH -> PATH?loop=1 -> PATH?loop=2 -> PATH -> ...
//   slow:BYTES_PER_SEC          the body dribbled in small chunks at that rate
//   reset                       the connection reset (RST) without an answer
//   huge:BYTES[:chunked]        a body of BYTES (with Content-Length, or chunked: size unknown)
//   type:MIME                   a non-HTML body of that content type
//   malformed                   broken HTML (unclosed tags, unquoted attributes, cut short)
//   latin1[:meta]               an ISO-8859-1 page, charset in the header (or only in <meta>)
//   charset:NAME[:meta]         a page in windows-1252 or shift_jis, charset in the header (or only
//                               in <meta>); its title is charset.cpp's kCharsetTitles[NAME] in UTF-8
//   delay:MS                    MS more latency for this response
//   encoding:CODING[:chunked]   the answer's body compressed with CODING (gzip, deflate, br or zstd) and
//                               labelled Content-Encoding: CODING, but only for a request whose
//                               Accept-Encoding lists CODING (or "*"), as a real server does: others get
//                               the identity body. Vary: Accept-Encoding either way. With :chunked, sent
//                               with chunked transfer encoding instead of a Content-Length.
//   chunked                     the answer's body as usual, with chunked transfer encoding (no Content-Length)
// encoding and chunked alter whatever the path answers (a page, a file, robots.txt, a 404), like delay;
// unlike delay they are the rule that decides, so a path takes no other fault with them.
// A file of rules has one per line; blank lines and '#' comments are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace fanout::testsite {

struct Fault {
  enum class Kind { kStatus, kRedirect, kChain, kLoop, kSlow, kReset, kHuge, kType, kMalformed, kLatin1, kCharset, kDelay,
                    kEncoding, kChunked };
  Kind kind = Kind::kStatus;
  int code = 0;             // status / redirect code
  int64_t amount = 0;       // retry-after s, hops, bytes/s, bytes, delay ms
  std::string text;         // redirect target, MIME type, charset name, content coding
  bool variant = false;     // huge:...:chunked, latin1:meta, charset:...:meta, encoding:...:chunked

  // Whether the fault alters the path's normal answer (encoding, chunked) rather than replacing it.
  bool AltersAnswer() const { return kind == Kind::kEncoding || kind == Kind::kChunked; }

  std::string ToString() const;  // back to rule syntax, e.g. "status:503:1"
};

struct FaultRule {
  Fault fault;
  std::string path;     // exact path, or prefix when `prefix`
  bool prefix = false;
  double rate = -1;     // >= 0: a share of requests instead of a path

  bool MatchesPath(std::string_view request_path) const;
};

// The page the charset fault serves, encoded in `charset` ("windows-1252" or "shift_jis"), and its
// title in UTF-8: what a crawler should read from it.
struct CharsetPage {
  std::string body;
  std::string title_utf8;
};
CharsetPage CharsetFaultPage(const std::string& charset, bool meta);

// Parses "KIND[:ARGS]@WHERE". Errors name the rule and what is wrong with it.
Result<FaultRule> ParseFaultRule(std::string_view spec);

// Parses "KIND[:ARGS]" alone.
Result<Fault> ParseFault(std::string_view spec);

// Reads a file of rules, one per line.
Result<std::vector<FaultRule>> LoadFaultRules(const std::string& file);

// The faults a synthetic site mixes in with --faults RATE, one drawn per faulted page.
// `target` is a path on the site for the redirect kinds.
Fault SyntheticFault(uint64_t draw, const std::string& target);

}  // namespace fanout::testsite
