#include "crawler/retry.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace fanout {

bool IsRetryable(const FetchResponse& response) {
  switch (response.curl_code) {
    case CURLE_OK: break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_RESOLVE_HOST:  // resolvers fail transiently too; fanout's own lookups retried already
      return !response.truncated && response.dns_error_kind.empty();
    default: return false;
  }
  const long s = response.status;
  return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

std::optional<double> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return 1e9;  // absurdly long: the caller caps it
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return static_cast<double>(seconds);
  }
  // An HTTP-date. strptime reads month and day names in the C locale, which is the program's.
  const std::string text(value);
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"}) {
    struct tm tm = {};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    const time_t at = timegm(&tm);
    if (at == -1) return std::nullopt;
    const double seconds =
        std::chrono::duration<double>(std::chrono::system_clock::from_time_t(at) - now).count();
    return std::max(0.0, seconds);
  }
  return std::nullopt;
}

double BackoffSeconds(int retry, double base, double cap, double jitter, double draw) {
  const double exponential = base * std::pow(2.0, std::clamp(retry - 1, 0, 62));
  const double factor = 1 - jitter + 2 * jitter * std::clamp(draw, 0.0, 1.0);
  return std::max(0.0, std::min(exponential, cap) * factor);
}

}  // namespace fanout
