#include "crawler/whatwg_url.h"

#include <idn2.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "util/ascii.h"
#include "util/hex.h"

namespace fanout {
namespace {

constexpr char kEof = '\0';  // the parser's EOF code point; a NUL byte in input is percent-encoded before it matters

Status Failure(std::string_view why) { return Status::InvalidArgument(std::string(why)); }

// The special schemes and their default ports (section 4.2); file: is special but not crawled.
std::optional<int> DefaultPort(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return std::nullopt;
}

bool IsAlpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool IsDigit(int c) { return c >= '0' && c <= '9'; }

// The percent-encode sets of section 1.3, each a superset of the one before it.
enum class EncodeSet { kC0Control, kFragment, kQuery, kSpecialQuery, kPath, kUserinfo };

bool InSet(unsigned char c, EncodeSet set) {
  if (c < 0x20 || c > 0x7e) return true;
  switch (set) {
    case EncodeSet::kC0Control:
      return false;
    case EncodeSet::kFragment:
      return c == ' ' || c == '"' || c == '<' || c == '>' || c == '`';
    case EncodeSet::kQuery:
      return c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
    case EncodeSet::kSpecialQuery:
      return InSet(c, EncodeSet::kQuery) || c == '\'';
    case EncodeSet::kPath:
      return InSet(c, EncodeSet::kQuery) || c == '?' || c == '^' || c == '`' || c == '{' || c == '}';
    case EncodeSet::kUserinfo:
      return InSet(c, EncodeSet::kPath) || c == '/' || c == ':' || c == ';' || c == '=' || c == '@' ||
             (c >= '[' && c <= '^') || c == '|';
  }
  return false;
}

void AppendEncoded(std::string& out, char c, EncodeSet set) {
  if (InSet(static_cast<unsigned char>(c), set)) {
    AppendPercentEncoded(out, static_cast<unsigned char>(c));
  } else {
    out += c;
  }
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Forbidden domain code points (section 3.1): the forbidden host code points, C0 controls, '%', DEL.
bool ForbiddenDomainChar(unsigned char c) {
  switch (c) {
    case ' ': case '#': case '/': case ':': case '<': case '>': case '?': case '@':
    case '[': case '\\': case ']': case '^': case '|': case '%':
      return true;
    default:
      return c < 0x20 || c == 0x7f;
  }
}

// The IPv4 number parser: decimal, "0x" hex, "0" octal; nullopt for failure. Values past 2^32
// are capped there, which every caller treats as too large.
std::optional<uint64_t> ParseIpv4Number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int radix = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
    radix = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    radix = 8;
    s.remove_prefix(1);
  }
  uint64_t value = 0;
  for (char c : s) {
    const int digit = HexValue(c);
    if (digit < 0 || digit >= radix) return std::nullopt;
    value = std::min<uint64_t>(value * radix + digit, uint64_t{1} << 33);
  }
  return value;
}

// "Ends in a number" (section 3.5): whether the host is for the IPv4 parser.
bool EndsInANumber(std::string_view host) {
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
    if (host.empty()) return false;
  }
  const std::string_view last = host.substr(host.rfind('.') == std::string_view::npos ? 0 : host.rfind('.') + 1);
  if (last.empty()) return false;
  bool digits = true;
  for (char c : last) digits = digits && IsDigit(static_cast<unsigned char>(c));
  return digits || ParseIpv4Number(last).has_value();
}

Result<std::string> ParseIpv4(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::array<uint64_t, 4> parts{};
  size_t n = 0;
  for (size_t start = 0;;) {
    const size_t dot = host.find('.', start);
    if (n == 4) return Failure("IPv4 address with more than four parts");
    std::optional<uint64_t> number = ParseIpv4Number(host.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!number) return Failure("IPv4 address with a non-number part");
    parts[n++] = *number;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    if (parts[i] > 255) return Failure("IPv4 address part over 255");
  }
  if (parts[n - 1] >= (uint64_t{1} << (8 * (5 - n)))) return Failure("IPv4 address out of range");
  uint64_t address = parts[n - 1];
  for (size_t i = 0; i + 1 < n; ++i) address += parts[i] << (8 * (3 - i));
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

// The IPv6 parser (section 3.5) and serializer (section 3.6): "[" address "]", lower-case hex, the
// first longest run of two or more zero pieces compressed.
Result<std::string> ParseIpv6(std::string_view in) {
  std::array<uint16_t, 8> address{};
  int piece = 0;
  std::optional<int> compress;
  size_t p = 0;
  constexpr int kEnd = -1;  // not a char, so a NUL byte inside the brackets is not the end
  auto c = [&](size_t i = 0) { return p + i < in.size() ? static_cast<int>(static_cast<unsigned char>(in[p + i])) : kEnd; };
  if (c() == ':') {
    if (c(1) != ':') return Failure("IPv6 address starts with a lone ':'");
    p += 2;
    compress = ++piece;
  }
  while (c() != kEnd) {
    if (piece == 8) return Failure("IPv6 address with too many pieces");
    if (c() == ':') {
      if (compress) return Failure("IPv6 address with two '::'");
      ++p;
      compress = ++piece;
      continue;
    }
    int value = 0, length = 0;
    while (length < 4 && HexValue(static_cast<char>(c())) >= 0) {
      value = value * 16 + HexValue(static_cast<char>(c()));
      ++p;
      ++length;
    }
    if (c() == '.') {
      if (length == 0) return Failure("IPv6 address with an empty IPv4 part");
      p -= length;
      if (piece > 6) return Failure("IPv6 address with an IPv4 part too late");
      int numbers_seen = 0;
      while (c() != kEnd) {
        int ipv4_piece = -1;
        if (numbers_seen > 0) {
          if (c() == '.' && numbers_seen < 4) {
            ++p;
          } else {
            return Failure("IPv6 address with a bad IPv4 part");
          }
        }
        if (!IsDigit(c())) return Failure("IPv6 address with a bad IPv4 part");
        while (IsDigit(c())) {
          const int number = c() - '0';
          if (ipv4_piece == -1) {
            ipv4_piece = number;
          } else if (ipv4_piece == 0) {
            return Failure("IPv6 address with a leading zero in its IPv4 part");
          } else {
            ipv4_piece = ipv4_piece * 10 + number;
          }
          if (ipv4_piece > 255) return Failure("IPv6 address with an IPv4 part over 255");
          ++p;
        }
        address[piece] = static_cast<uint16_t>(address[piece] * 0x100 + ipv4_piece);
        if (++numbers_seen == 2 || numbers_seen == 4) ++piece;
      }
      if (numbers_seen != 4) return Failure("IPv6 address with a short IPv4 part");
      break;
    }
    if (c() == ':') {
      ++p;
      if (c() == kEnd) return Failure("IPv6 address ends in ':'");
    } else if (c() != kEnd) {
      return Failure("IPv6 address with an invalid code point");
    }
    address[piece++] = static_cast<uint16_t>(value);
  }
  if (compress) {
    int swaps = piece - *compress;
    piece = 7;
    while (piece != 0 && swaps > 0) {
      std::swap(address[piece], address[*compress + swaps - 1]);
      --piece;
      --swaps;
    }
  } else if (piece != 8) {
    return Failure("IPv6 address with too few pieces");
  }

  int best = -1, best_length = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && address[j] == 0) ++j;
    if (j - i > best_length) {
      best = i;
      best_length = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "[";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += i == 0 ? "::" : ":";
      i += best_length - 1;
      continue;
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int digit = (address[i] >> shift) & 0xf;
      if (digit != 0 || started || shift == 0) {
        out += kHex[digit];
        started = true;
      }
    }
    if (i != 7) out += ':';
  }
  return out + "]";
}

// Ideographic, fullwidth and halfwidth full stops, in UTF-8: label separators under UTS #46,
// mapped here so that labels can be split on '.' before libidn2 sees them.
std::string MapFullStops(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string_view rest = s.substr(i, 3);
    if (rest == "\xE3\x80\x82" || rest == "\xEF\xBC\x8E" || rest == "\xEF\xBD\xA1") {
      out += '.';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct FreeDeleter {
  void operator()(uint8_t* p) const { idn2_free(p); }
};

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool IsPunycodeLabel(std::string_view label) {
  return label.size() >= 4 && EqualsIgnoreCase(label.substr(0, 4), "xn--");
}

// One label (or, if its mapping produces full stops, a few) through libidn2's UTS #46 lookup.
Result<std::string> LabelToAscii(const std::string& label) {
  uint8_t* raw = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(label.c_str()), &raw,
                                IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  std::unique_ptr<uint8_t, FreeDeleter> out(raw);
  if (rc != IDN2_OK) return Failure(std::string("host is not a valid domain: ") + idn2_strerror(rc));
  return std::string(reinterpret_cast<const char*>(out.get()));
}

// Domain to ASCII (section 3.3) with UseSTD3ASCIIRules false and Transitional false.
// REQUIRES: `domain` holds no NUL (libidn2 takes C strings).
//
// An ASCII label that is not "xn--" maps to itself lower-cased under UTS #46, so only the other
// labels go to libidn2, one at a time. libidn2 adds IDNA2008's label rules (no leading or
// trailing hyphen, no "--" at positions 3-4, no symbols) that the standard, with CheckHyphens
// false, does not have; asking it only about the labels that need it keeps those rules off plain
// ASCII labels such as "ab--c" or "-x" beside an internationalized one.
Result<std::string> DomainToAscii(const std::string& domain) {
  const std::string mapped = MapFullStops(domain);
  std::string out;
  out.reserve(mapped.size());
  for (size_t start = 0;;) {
    const size_t dot = mapped.find('.', start);
    const std::string_view label =
        std::string_view(mapped).substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (IsAscii(label) && !IsPunycodeLabel(label)) {
      for (char c : label) out += AsciiLower(c);
    } else {
      FANOUT_ASSIGN_OR_RETURN(std::string ascii, LabelToAscii(std::string(label)));
      out += ascii;
    }
    if (dot == std::string::npos) break;
    out += '.';
    start = dot + 1;
  }
  return out;
}

// The host parser (section 3.5) for a special scheme.
Result<std::string> ParseHost(std::string_view input) {
  if (!input.empty() && input.front() == '[') {
    if (input.back() != ']') return Failure("IPv6 host without ']'");
    return ParseIpv6(input.substr(1, input.size() - 2));
  }
  const std::string domain = PercentDecode(input);
  // UTS #46 keeps every ASCII code point but A-Z as it is, so a forbidden one in the domain would
  // be in the result too: refuse it now. This also keeps a NUL (literal or "%00") away from
  // libidn2, which takes a C string and would silently drop everything after it.
  for (char c : domain) {
    if (ForbiddenDomainChar(static_cast<unsigned char>(c))) return Failure("forbidden code point in host");
  }
  FANOUT_ASSIGN_OR_RETURN(std::string ascii, DomainToAscii(domain));
  if (ascii.empty()) return Failure("empty host");
  for (char c : ascii) {
    if (ForbiddenDomainChar(static_cast<unsigned char>(c))) return Failure("forbidden code point in host");
  }
  if (EndsInANumber(ascii)) return ParseIpv4(ascii);
  return ascii;
}

bool IsSingleDot(std::string_view s) { return s == "." || EqualsIgnoreCase(s, "%2e"); }
bool IsDoubleDot(std::string_view s) {
  return s == ".." || EqualsIgnoreCase(s, ".%2e") || EqualsIgnoreCase(s, "%2e.") || EqualsIgnoreCase(s, "%2e%2e");
}

void ShortenPath(std::string& path) { path.resize(path.empty() ? 0 : path.rfind('/')); }

// Section 4.4 preprocessing: no leading or trailing C0 control or space, no tab or newline.
std::string Preprocess(std::string_view input) {
  while (!input.empty() && static_cast<unsigned char>(input.front()) <= 0x20) input.remove_prefix(1);
  while (!input.empty() && static_cast<unsigned char>(input.back()) <= 0x20) input.remove_suffix(1);
  std::string out;
  out.reserve(input.size());
  for (char c : input) {
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  }
  return out;
}

// What the relative and relative-slash states take from the base: credentials, host and port.
void CopyAuthority(const WhatwgUrl& base, WhatwgUrl& url) {
  url.username = base.username;
  url.password = base.password;
  url.host = base.host;
  url.port = base.port;
}

enum class State {
  kSchemeStart, kScheme, kNoScheme, kSpecialRelativeOrAuthority, kRelative, kRelativeSlash,
  kSpecialAuthoritySlashes, kSpecialAuthorityIgnoreSlashes, kAuthority, kHost, kPort, kPathStart,
  kPath, kQuery, kFragment,
};

}  // namespace

Result<WhatwgUrl> ParseWhatwgUrl(std::string_view raw_input, const WhatwgUrl* base) {
  const std::string input = Preprocess(raw_input);
  WhatwgUrl url;
  State state = State::kSchemeStart;
  std::string buffer;
  bool at_sign_seen = false, inside_brackets = false, password_token_seen = false;
  int port_value = 0;
  bool port_digits = false;
  // The pointer runs one past the end, where c is EOF; NUL bytes are told from EOF by position.
  for (size_t p = 0; p <= input.size(); ++p) {
    const bool eof = p == input.size();
    const char c = eof ? kEof : input[p];
    auto remaining = [&](size_t i) { return p + i < input.size() ? input[p + i] : kEof; };
    switch (state) {
      case State::kSchemeStart:
        if (!eof && IsAlpha(static_cast<unsigned char>(c))) {
          buffer += AsciiLower(c);
          state = State::kScheme;
        } else {
          state = State::kNoScheme;
          --p;
        }
        break;
      case State::kScheme:
        if (!eof && (IsAlpha(static_cast<unsigned char>(c)) || IsDigit(static_cast<unsigned char>(c)) || c == '+' ||
                     c == '-' || c == '.')) {
          buffer += AsciiLower(c);
        } else if (c == ':' && !eof) {
          if (!DefaultPort(buffer)) return Failure("unsupported scheme '" + buffer + "'");
          url.scheme = std::move(buffer);
          buffer.clear();
          if (base && base->scheme == url.scheme) {
            state = State::kSpecialRelativeOrAuthority;
          } else {
            state = State::kSpecialAuthoritySlashes;
          }
        } else {
          buffer.clear();
          state = State::kNoScheme;
          p = static_cast<size_t>(-1);  // start over from the first code point
        }
        break;
      case State::kNoScheme:
        if (!base) return Failure("relative URL without a base");
        state = State::kRelative;
        --p;
        break;
      case State::kSpecialRelativeOrAuthority:
        if (c == '/' && remaining(1) == '/') {
          state = State::kSpecialAuthorityIgnoreSlashes;
          ++p;
        } else {
          state = State::kRelative;
          --p;
        }
        break;
      case State::kRelative:
        url.scheme = base->scheme;
        if (c == '/' || c == '\\') {
          state = State::kRelativeSlash;
        } else {
          CopyAuthority(*base, url);
          url.path = base->path;
          url.query = base->query;
          if (c == '?') {
            url.query = "";
            state = State::kQuery;
          } else if (c == '#') {
            url.fragment = "";
            state = State::kFragment;
          } else if (!eof) {
            url.query.reset();
            ShortenPath(url.path);
            state = State::kPath;
            --p;
          }
        }
        break;
      case State::kRelativeSlash:
        if (c == '/' || c == '\\') {
          state = State::kSpecialAuthorityIgnoreSlashes;
        } else {
          CopyAuthority(*base, url);
          state = State::kPath;
          --p;
        }
        break;
      case State::kSpecialAuthoritySlashes:
        state = State::kSpecialAuthorityIgnoreSlashes;
        if (c == '/' && remaining(1) == '/') {
          ++p;
        } else {
          --p;
        }
        break;
      case State::kSpecialAuthorityIgnoreSlashes:
        if (c != '/' && c != '\\') {
          state = State::kAuthority;
          --p;
        }
        break;
      case State::kAuthority:
        if (c == '@' && !eof) {
          if (at_sign_seen) buffer.insert(0, "%40");
          at_sign_seen = true;
          for (char b : buffer) {
            if (b == ':' && !password_token_seen) {
              password_token_seen = true;
              continue;
            }
            AppendEncoded(password_token_seen ? url.password : url.username, b, EncodeSet::kUserinfo);
          }
          buffer.clear();
        } else if (eof || c == '/' || c == '?' || c == '#' || c == '\\') {
          if (at_sign_seen && buffer.empty()) return Failure("credentials without a host");
          p -= buffer.size() + 1;
          buffer.clear();
          state = State::kHost;
        } else {
          buffer += c;
        }
        break;
      case State::kHost:
        if (c == ':' && !eof && !inside_brackets) {
          if (buffer.empty()) return Failure("empty host");
          FANOUT_ASSIGN_OR_RETURN(std::string host, ParseHost(buffer));
          url.host = std::move(host);
          buffer.clear();
          state = State::kPort;
        } else if (eof || c == '/' || c == '?' || c == '#' || c == '\\') {
          if (buffer.empty()) return Failure("empty host");
          FANOUT_ASSIGN_OR_RETURN(std::string host, ParseHost(buffer));
          url.host = std::move(host);
          buffer.clear();
          state = State::kPathStart;
          --p;
        } else {
          if (c == '[') inside_brackets = true;
          if (c == ']') inside_brackets = false;
          buffer += c;
        }
        break;
      case State::kPort:
        if (!eof && IsDigit(static_cast<unsigned char>(c))) {
          // The value, capped once past 65535 so that any number of digits cannot overflow it.
          port_value = std::min(port_value * 10 + (c - '0'), 65536);
          port_digits = true;
        } else if (eof || c == '/' || c == '?' || c == '#' || c == '\\') {
          if (port_digits) {
            if (port_value > 65535) return Failure("port out of range");
            if (port_value == *DefaultPort(url.scheme)) {
              url.port.reset();
            } else {
              url.port = static_cast<uint16_t>(port_value);
            }
          }
          state = State::kPathStart;
          --p;
        } else {
          return Failure("invalid port");
        }
        break;
      case State::kPathStart:
        state = State::kPath;
        if (c != '/' && c != '\\') --p;
        break;
      case State::kPath:
        if (eof || c == '/' || c == '\\' || c == '?' || c == '#') {
          const bool slash = !eof && (c == '/' || c == '\\');
          if (IsDoubleDot(buffer)) {
            ShortenPath(url.path);
            if (!slash) url.path += '/';
          } else if (IsSingleDot(buffer)) {
            if (!slash) url.path += '/';
          } else {
            url.path += '/';
            url.path += buffer;
          }
          buffer.clear();
          if (c == '?' && !eof) {
            url.query = "";
            state = State::kQuery;
          } else if (c == '#' && !eof) {
            url.fragment = "";
            state = State::kFragment;
          }
        } else {
          AppendEncoded(buffer, c, EncodeSet::kPath);
        }
        break;
      case State::kQuery:
        if (eof) break;
        if (c == '#') {
          url.fragment = "";
          state = State::kFragment;
        } else {
          AppendEncoded(*url.query, c, EncodeSet::kSpecialQuery);
        }
        break;
      case State::kFragment:
        if (!eof) AppendEncoded(*url.fragment, c, EncodeSet::kFragment);
        break;
    }
  }
  return url;
}

std::string WhatwgUrl::Serialize(bool with_fragment) const {
  std::string out;
  out.reserve(scheme.size() + host.size() + path.size() + 16 + (query ? query->size() : 0));
  out.append(scheme).append("://");
  if (!username.empty() || !password.empty()) {
    out += username;
    if (!password.empty()) out.append(":").append(password);
    out += '@';
  }
  out += host;
  if (port) out.append(":").append(std::to_string(*port));
  out += path;
  if (query) out.append("?").append(*query);
  if (with_fragment && fragment) out.append("#").append(*fragment);
  return out;
}

}  // namespace fanout
