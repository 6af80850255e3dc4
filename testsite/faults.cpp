#include "testsite/faults.h"

#include <charconv>
#include <fstream>

namespace fanout::testsite {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t at = s.find(sep);
    if (at == std::string_view::npos) break;
    parts.push_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  parts.push_back(s);
  return parts;
}

bool ParseInt(std::string_view s, int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

Status Bad(std::string_view spec, std::string_view why) {
  return Status::InvalidArgument("fault '" + std::string(spec) + "': " + std::string(why));
}

}  // namespace

std::string Fault::ToString() const {
  switch (kind) {
    case Kind::kStatus: return "status:" + std::to_string(code) + (amount > 0 ? ":" + std::to_string(amount) : "");
    case Kind::kRedirect: return "redirect:" + std::to_string(code) + ":" + text;
    case Kind::kChain: return "chain:" + std::to_string(amount) + ":" + text;
    case Kind::kLoop: return "loop";
    case Kind::kSlow: return "slow:" + std::to_string(amount);
    case Kind::kReset: return "reset";
    case Kind::kHuge: return "huge:" + std::to_string(amount) + (variant ? ":chunked" : "");
    case Kind::kType: return "type:" + text;
    case Kind::kMalformed: return "malformed";
    case Kind::kLatin1: return variant ? "latin1:meta" : "latin1";
    case Kind::kCharset: return "charset:" + text + (variant ? ":meta" : "");
    case Kind::kDelay: return "delay:" + std::to_string(amount);
    case Kind::kEncoding: return "encoding:" + text + (variant ? ":chunked" : "");
    case Kind::kChunked: return "chunked";
  }
  return "?";
}

CharsetPage CharsetFaultPage(const std::string& charset, bool meta) {
  // The titles' bytes in each encoding, and the same text in UTF-8.
  const bool sjis = charset == "shift_jis";
  const std::string title = sjis ? "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x79\x81\x5b\x83\x57"
                                 : "\x93" "Caf\xe9\x94 costs \x80" "5";
  CharsetPage page;
  page.title_utf8 = sjis ? "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x9a\xe3\x83\xbc\xe3\x82\xb8"
                         : "\xe2\x80\x9c" "Caf\xc3\xa9\xe2\x80\x9d costs \xe2\x82\xac" "5";
  page.body = "<!DOCTYPE html><html><head>" + (meta ? "<meta charset=\"" + charset + "\">" : std::string()) +
              "<title>" + title + "</title></head><body><p>" + title + "</p><a href=\"/\">home</a></body></html>\n";
  return page;
}

bool FaultRule::MatchesPath(std::string_view request_path) const {
  if (rate >= 0) return false;
  if (prefix) return request_path.substr(0, path.size()) == path;
  return request_path == path;
}

Result<Fault> ParseFault(std::string_view spec) {
  // Targets may contain ':' (absolute URLs), so split at most as far as each kind needs.
  auto head = Split(spec, ':', 2);
  std::string_view kind = head[0];
  std::string_view rest = head.size() > 1 ? head[1] : std::string_view();
  Fault f;
  int64_t n = 0;
  if (kind == "status") {
    auto args = Split(rest, ':', 2);
    if (!ParseInt(args[0], n) || n < 100 || n > 599) return Bad(spec, "status needs a code 100..599");
    f.kind = Fault::Kind::kStatus;
    f.code = static_cast<int>(n);
    if (args.size() > 1) {
      if (!ParseInt(args[1], f.amount)) return Bad(spec, "Retry-After must be whole seconds");
    } else if (f.code == 429 || f.code == 503) {
      f.amount = 1;
    }
  } else if (kind == "redirect") {
    auto args = Split(rest, ':', 2);
    if (args.size() < 2 || !ParseInt(args[0], n) || (n != 301 && n != 302 && n != 303 && n != 307 && n != 308)) {
      return Bad(spec, "use redirect:301|302|303|307|308:TARGET");
    }
    if (args[1].empty()) return Bad(spec, "redirect needs a target");
    f.kind = Fault::Kind::kRedirect;
    f.code = static_cast<int>(n);
    f.text = args[1];
  } else if (kind == "chain") {
    auto args = Split(rest, ':', 2);
    if (args.size() < 2 || !ParseInt(args[0], f.amount) || f.amount < 1 || f.amount > 100 || args[1].empty()) {
      return Bad(spec, "use chain:HOPS:TARGET with 1..100 hops");
    }
    f.kind = Fault::Kind::kChain;
    f.text = args[1];
  } else if (kind == "loop" || kind == "reset" || kind == "malformed" || kind == "chunked") {
    if (!rest.empty()) return Bad(spec, std::string(kind) + " takes no arguments");
    f.kind = kind == "loop"    ? Fault::Kind::kLoop
             : kind == "reset" ? Fault::Kind::kReset
             : kind == "chunked" ? Fault::Kind::kChunked
                                 : Fault::Kind::kMalformed;
  } else if (kind == "slow") {
    if (!ParseInt(rest, f.amount) || f.amount < 1) return Bad(spec, "use slow:BYTES_PER_SECOND (at least 1)");
    f.kind = Fault::Kind::kSlow;
  } else if (kind == "huge") {
    auto args = Split(rest, ':', 2);
    if (!ParseInt(args[0], f.amount) || f.amount < 1) return Bad(spec, "use huge:BYTES[:chunked]");
    if (args.size() > 1 && args[1] != "chunked") return Bad(spec, "the only huge variant is 'chunked'");
    f.kind = Fault::Kind::kHuge;
    f.variant = args.size() > 1;
  } else if (kind == "type") {
    if (rest.find('/') == std::string_view::npos) return Bad(spec, "use type:MIME, e.g. type:application/pdf");
    f.kind = Fault::Kind::kType;
    f.text = rest;
  } else if (kind == "latin1") {
    if (!rest.empty() && rest != "meta") return Bad(spec, "the only latin1 variant is 'meta'");
    f.kind = Fault::Kind::kLatin1;
    f.variant = rest == "meta";
  } else if (kind == "charset") {
    auto args = Split(rest, ':', 2);
    if (args[0] != "windows-1252" && args[0] != "shift_jis") {
      return Bad(spec, "use charset:windows-1252[:meta] or charset:shift_jis[:meta]");
    }
    if (args.size() > 1 && args[1] != "meta") return Bad(spec, "the only charset variant is 'meta'");
    f.kind = Fault::Kind::kCharset;
    f.text = std::string(args[0]);
    f.variant = args.size() > 1;
  } else if (kind == "encoding") {
    auto args = Split(rest, ':', 2);
    if (args[0] != "gzip" && args[0] != "deflate" && args[0] != "br" && args[0] != "zstd") {
      return Bad(spec, "use encoding:gzip|deflate|br|zstd[:chunked]");
    }
    if (args.size() > 1 && args[1] != "chunked") return Bad(spec, "the only encoding variant is 'chunked'");
    f.kind = Fault::Kind::kEncoding;
    f.text = std::string(args[0]);
    f.variant = args.size() > 1;
  } else if (kind == "delay") {
    if (!ParseInt(rest, f.amount)) return Bad(spec, "use delay:MILLISECONDS");
    f.kind = Fault::Kind::kDelay;
  } else {
    return Bad(spec, "unknown kind '" + std::string(kind) +
                         "' (status, redirect, chain, loop, slow, reset, huge, type, malformed, latin1, charset, delay, "
                         "encoding, chunked)");
  }
  return f;
}

Result<FaultRule> ParseFaultRule(std::string_view spec) {
  size_t at = spec.rfind('@');
  if (at == std::string_view::npos) return Bad(spec, "missing '@PATH' or '@RATE'");
  FANOUT_ASSIGN_OR_RETURN(Fault fault, ParseFault(spec.substr(0, at)));
  FaultRule rule;
  rule.fault = std::move(fault);
  std::string_view where = spec.substr(at + 1);
  if (!where.empty() && where[0] == '/') {
    rule.prefix = where.back() == '*';
    if (rule.prefix) where.remove_suffix(1);
    rule.path = where;
  } else {
    double rate = -1;
    auto [end, ec] = std::from_chars(where.data(), where.data() + where.size(), rate);
    if (ec != std::errc() || end != where.data() + where.size() || rate < 0 || rate > 1) {
      return Bad(spec, "'@' must be followed by a path starting with '/' or a rate between 0 and 1");
    }
    rule.rate = rate;
  }
  return rule;
}

Result<std::vector<FaultRule>> LoadFaultRules(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::IOError("cannot read fault file '" + file + "'");
  std::vector<FaultRule> rules;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t end = line.find_last_not_of(" \t\r");
    Result<FaultRule> rule = ParseFaultRule(std::string_view(line).substr(start, end - start + 1));
    if (!rule.ok()) {
      return Status::InvalidArgument(file + ":" + std::to_string(number) + ": " + rule.status().message());
    }
    rules.push_back(std::move(rule.value()));
  }
  return rules;
}

Fault SyntheticFault(uint64_t draw, const std::string& target) {
  static constexpr std::string_view kMenu[] = {
      "status:404", "status:500", "status:503", "status:429:1", "redirect:301:", "chain:2:", "loop",
      "slow:20000", "reset", "huge:2000000", "type:application/pdf", "malformed", "latin1", "latin1:meta",
  };
  std::string spec(kMenu[draw % std::size(kMenu)]);
  if (spec.back() == ':') spec += target;
  return ParseFault(spec).value();
}

}  // namespace fanout::testsite
