// Retry policy: which failed fetches deserve another try, and how long to wait before it.
//
// A fetch is retried after a failure that may pass: no connection, a timeout, a connection cut,
// an empty reply, or HTTP 429, 500, 502, 503 or 504. Never after another 4xx: asking again would
// get the same answer. The wait doubles with each attempt (exponential back-off) with random
// jitter, so that many pages failing together do not come back together; a server's Retry-After
// lengthens it. Pure functions: any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "crawler/fetch.h"

namespace fanout {

// Whether `response` failed in a way another attempt may fix.
bool IsRetryable(const FetchResponse& response);

// The seconds a Retry-After value asks for: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms), relative to
// `now`; a date in the past gives 0. nullopt when the value is neither.
std::optional<double> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now);

// The back-off before attempt `retry` (1 for the first retry): base * 2^(retry - 1), at most
// `cap`, scaled by a factor in [1 - jitter, 1 + jitter] chosen by `draw` in [0, 1).
double BackoffSeconds(int retry, double base, double cap, double jitter, double draw);

}  // namespace fanout
