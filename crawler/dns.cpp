#include "crawler/dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "crawler/dns_channel.h"
#include "util/ascii.h"

namespace fanout {
namespace {

bool IsLiteral(std::string_view host, std::string& text, bool& v6) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned char buf[16];
  if (inet_pton(AF_INET, h.c_str(), buf) == 1) {
    text = h;
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    text = h;
    v6 = true;
    return true;
  }
  return false;
}

// Splits "HOST:PORT:ADDRS" (ADDRS: comma-separated, IPv6 ones in brackets).
bool SplitPin(std::string_view pin, std::string_view& host, std::string_view& port, std::string_view& addrs) {
  const size_t a = pin.find(':');
  if (a == std::string_view::npos) return false;
  const size_t b = pin.find(':', a + 1);
  if (b == std::string_view::npos) return false;
  host = pin.substr(0, a);
  port = pin.substr(a + 1, b - a - 1);
  addrs = pin.substr(b + 1);
  return !host.empty() && !port.empty() && !addrs.empty();
}

}  // namespace

const std::string& DnsAnswer::address() const {
  static const std::string kNone;
  if (!ipv4.empty()) return ipv4.front();
  if (!ipv6.empty()) return ipv6.front();
  return kNone;
}

std::string_view DnsErrorKind(DnsAnswer::Kind kind) {
  switch (kind) {
    case DnsAnswer::Kind::kOk: return "";
    case DnsAnswer::Kind::kNxDomain: return "dns-nxdomain";
    case DnsAnswer::Kind::kServFail: return "dns-servfail";
    case DnsAnswer::Kind::kTimeout: return "dns-timeout";
  }
  return "";
}

void EnsureAresInit() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

DnsAnswer AnswerOf(int status, const ares_addrinfo* result, double seconds) {
  DnsAnswer answer;
  answer.seconds = seconds;
  if (status == ARES_SUCCESS && result != nullptr) {
    bool first = true;
    for (const ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      if (n->ai_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(n->ai_addr)->sin_addr, text, sizeof text);
        if (std::find(answer.ipv4.begin(), answer.ipv4.end(), text) == answer.ipv4.end()) answer.ipv4.push_back(text);
      } else if (n->ai_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(n->ai_addr)->sin6_addr, text, sizeof text);
        if (std::find(answer.ipv6.begin(), answer.ipv6.end(), text) == answer.ipv6.end()) answer.ipv6.push_back(text);
      } else {
        continue;
      }
      answer.ttl = first ? n->ai_ttl : std::min<double>(answer.ttl, n->ai_ttl);
      first = false;
    }
    if (!answer.ipv4.empty() || !answer.ipv6.empty()) return answer;
    status = ARES_ENODATA;
  }
  switch (status) {
    case ARES_ENOTFOUND:
      answer.kind = DnsAnswer::Kind::kNxDomain;
      answer.error = "no such host (NXDOMAIN)";
      break;
    case ARES_ENODATA:
    case ARES_SUCCESS:
      answer.kind = DnsAnswer::Kind::kNxDomain;
      answer.error = "the name has no address (no A or AAAA record)";
      break;
    case ARES_ECONNREFUSED:
      // What c-ares says when every resolver answered SERVFAIL or REFUSED, and when none could be
      // reached at all (no route, nothing listening): the resolver's failure either way.
      answer.kind = DnsAnswer::Kind::kServFail;
      answer.error = std::string("the resolver failed or could not be reached (") + ares_strerror(status) + ")";
      break;
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      answer.kind = DnsAnswer::Kind::kTimeout;
      answer.error = std::string("no answer from the resolver in time (") + ares_strerror(status) + ")";
      break;
    default:
      answer.kind = DnsAnswer::Kind::kServFail;
      answer.error = std::string("the resolver failed: ") + ares_strerror(status);
      break;
  }
  return answer;
}

bool IsLocalhostName(std::string_view host) {
  std::string lower = AsciiLowered(host);
  if (lower.ends_with('.')) lower.pop_back();
  return lower == "localhost" || lower.ends_with(".localhost");
}

std::string CheckPin(std::string_view pin) {
  std::string_view host, port, addrs;
  if (!SplitPin(pin, host, port, addrs)) return "expected HOST:PORT:ADDRESS[,ADDRESS...]";
  int p = 0;
  if (port != "*" && (std::from_chars(port.data(), port.data() + port.size(), p).ec != std::errc() || p <= 0 || p > 65535)) {
    return "the port '" + std::string(port) + "' is not a port number (1-65535 or *)";
  }
  while (!addrs.empty()) {
    const size_t comma = addrs.find(',');
    std::string_view one = addrs.substr(0, comma);
    std::string text;
    bool v6 = false;
    if (!IsLiteral(one, text, v6)) return "'" + std::string(one) + "' is not an IP address";
    addrs = comma == std::string_view::npos ? std::string_view() : addrs.substr(comma + 1);
  }
  return "";
}

bool AnswerLocally(std::string_view host, int port, const std::vector<std::string>& pins, DnsAnswer& answer) {
  answer = DnsAnswer{};
  answer.ttl = 1e9;  // for the run
  for (const std::string& pin : pins) {
    std::string_view h, p, addrs;
    if (!SplitPin(pin, h, p, addrs) || !EqualsIgnoreCase(h, host)) continue;
    if (p != "*" && p != std::to_string(port)) continue;
    while (!addrs.empty()) {
      const size_t comma = addrs.find(',');
      std::string text;
      bool v6 = false;
      if (IsLiteral(addrs.substr(0, comma), text, v6)) (v6 ? answer.ipv6 : answer.ipv4).push_back(text);
      addrs = comma == std::string_view::npos ? std::string_view() : addrs.substr(comma + 1);
    }
    return true;
  }
  std::string text;
  bool v6 = false;
  if (IsLiteral(host, text, v6)) {
    (v6 ? answer.ipv6 : answer.ipv4).push_back(text);
    return true;
  }
  if (IsLocalhostName(host)) {
    answer.ipv4.push_back("127.0.0.1");
    answer.ipv6.push_back("::1");
    return true;
  }
  return false;
}

DnsAnswer ResolveBlocking(const std::string& host, const DnsOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  Result<AresChannel> channel = AresChannel::Create(options, nullptr, nullptr);
  if (!channel.ok()) {
    DnsAnswer answer;
    answer.kind = DnsAnswer::Kind::kServFail;
    answer.error = channel.status().message();
    return answer;
  }
  struct Call {
    bool done = false;
    int status = 0;
    ares_addrinfo* result = nullptr;
  } call;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  ares_getaddrinfo(channel->get(), host.c_str(), nullptr, &hints,
                   [](void* arg, int status, int, ares_addrinfo* result) {
                     auto* c = static_cast<Call*>(arg);
                     c->done = true;
                     c->status = status;
                     c->result = result;
                   },
                   &call);
  // A deadline of our own beyond c-ares's tries, so that nothing holds this thread longer.
  const double deadline = options.timeout + 1;
  while (!call.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(channel->get(), socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const short events = static_cast<short>((ARES_GETSOCK_READABLE(bits, i) ? POLLIN : 0) |
                                              (ARES_GETSOCK_WRITABLE(bits, i) ? POLLOUT : 0));
      if (events == 0) continue;
      fds[n++] = {socks[i], events, 0};
    }
    timeval tv{};
    timeval* wait = ares_timeout(channel->get(), nullptr, &tv);
    int ms = wait != nullptr ? static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000) + 1 : 100;
    ms = std::clamp(ms, 1, 1000);
    const int ready = poll(fds, n, ms);
    if (ready <= 0) {
      ares_process_fd(channel->get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    } else {
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        const bool in = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
        const bool out = fds[i].revents & POLLOUT;
        ares_process_fd(channel->get(), in ? fds[i].fd : ARES_SOCKET_BAD, out ? fds[i].fd : ARES_SOCKET_BAD);
      }
    }
    if (!call.done && elapsed() > deadline) ares_cancel(channel->get());
  }
  DnsAnswer answer = AnswerOf(call.status, call.result, elapsed());
  if (call.result != nullptr) ares_freeaddrinfo(call.result);
  return answer;
}

}  // namespace fanout
