// Internal to fanout_warc (not installed for other folders): the entity of a message body sent
// with Transfer-Encoding: chunked, as the pieces between the chunk framing, for the WARC payload
// digest. It never copies: the pieces view `body`.
//
// A body cut short (a truncated transfer) gives the data of the chunks it holds, the last one
// partly; anything after the last chunk (trailer fields) is not entity and is left out.
#pragma once

#include <string_view>
#include <vector>

namespace fanout::warc_internal {

// True when the last transfer coding of a Transfer-Encoding value is "chunked"
// ("gzip, chunked" yes, "chunked, gzip" no: that body is not chunk-framed on the outside).
bool IsChunked(std::string_view transfer_encoding);

struct Dechunked {
  std::vector<std::string_view> pieces;
  bool complete = false;  // the last-chunk (size 0) was reached
};

// The chunk data of `body`. Parsing stops at the first malformed chunk-size line; the pieces
// before it are kept.
Dechunked Dechunk(std::string_view body);

}  // namespace fanout::warc_internal
