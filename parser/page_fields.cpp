#include "parser/page_fields.h"

#include <utility>

namespace fanout {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsHtmlSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsHtmlSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (IsHtmlSpace(c)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

}  // namespace

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool HasToken(std::string_view list, std::string_view token, bool commas) {
  size_t i = 0;
  while (i < list.size()) {
    auto separator = [&](char c) { return IsHtmlSpace(c) || (commas && c == ','); };
    while (i < list.size() && separator(list[i])) ++i;
    size_t start = i;
    while (i < list.size() && !separator(list[i])) ++i;
    if (i > start && EqualsIgnoreCase(list.substr(start, i - start), token)) return true;
  }
  return false;
}

void PageFields::Link(std::string href, bool area, const std::string_view* rel) {
  if (!WantsLink()) return;
  page_.links.push_back(
      HtmlLink{std::move(href), area ? "area" : "a", rel != nullptr && HasToken(*rel, "nofollow", false)});
}

void PageFields::Title(std::string_view text) {
  if (have_title_) return;
  have_title_ = true;
  page_.title = CollapseWhitespace(text);
}

void PageFields::Base(std::string href) {
  if (have_base_) return;
  have_base_ = true;
  page_.base_href = std::move(href);
}

void PageFields::LinkElement(std::string_view rel, std::string href) {
  if (have_canonical_ || !HasToken(rel, "canonical", false)) return;
  have_canonical_ = true;
  page_.canonical = std::move(href);
}

void PageFields::HttpEquiv(std::string_view http_equiv, std::string_view content) {
  if (page_.refresh || !EqualsIgnoreCase(Trim(http_equiv), "refresh")) return;
  page_.refresh = ParseMetaRefresh(content);
}

void PageFields::Meta(std::string_view name, std::string_view content) {
  if (!EqualsIgnoreCase(Trim(name), "robots")) return;
  const bool none = HasToken(content, "none", true);
  page_.meta_nofollow = page_.meta_nofollow || none || HasToken(content, "nofollow", true);
  page_.meta_noindex = page_.meta_noindex || none || HasToken(content, "noindex", true);
}

}  // namespace fanout
