// The parts of the tutorial's crawlers that do not change from step to step: arguments, finding
// the links on a page, and the report line. Each step's own file holds the idea it teaches.
//
// Header-only, so that every step stays one .cpp file plus this. Deliberately simple: the real
// crawler (crawler/, parser/) normalises URLs, obeys robots.txt, retries and stores; these don't.
#pragma once

#include <curl/curl.h>
#include <gumbo.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tutorial {

struct Args {
  std::string start_url;
  int max_pages = 1000;  // stop after this many pages
  int concurrency = 16;  // transfers (or threads) at once; step 1 ignores it
};

// step URL [--max-pages N] [--concurrency N]; prints usage and exits with 2 on anything else.
inline Args ParseArgs(int argc, char** argv) {
  Args args;
  auto usage = [&] {
    std::fprintf(stderr, "usage: %s URL [--max-pages N] [--concurrency N]\n", argv[0]);
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto number = [&](int& out) {
      if (i + 1 >= argc) usage();
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > 1000000) usage();
      out = static_cast<int>(v);
    };
    if (a == "--max-pages") {
      number(args.max_pages);
    } else if (a == "--concurrency") {
      number(args.concurrency);
    } else if (args.start_url.empty() && (a.starts_with("http://") || a.starts_with("https://"))) {
      args.start_url = a;
    } else {
      usage();
    }
  }
  if (args.start_url.empty()) usage();
  return args;
}

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A curl write callback that appends the body to the std::string at userp.
inline size_t AppendToString(char* data, size_t size, size_t count, void* userp) {
  static_cast<std::string*>(userp)->append(data, size * count);
  return size * count;
}

// `href` resolved against `base` with curl's URL parser, without its #fragment; "" if it is not
// an http(s) URL on the same host and port as `base` (the tutorial crawls one site).
inline std::string ResolveSameSite(const std::string& base, const char* href) {
  using Url = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;
  Url url(curl_url(), curl_url_cleanup);
  if (curl_url_set(url.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) return "";
  auto part = [](CURLU* u, CURLUPart which) {
    char* text = nullptr;
    std::string out;
    if (curl_url_get(u, which, &text, CURLU_DEFAULT_PORT) == CURLUE_OK) out = text;
    curl_free(text);
    return out;
  };
  const std::string host = part(url.get(), CURLUPART_HOST), port = part(url.get(), CURLUPART_PORT);
  if (curl_url_set(url.get(), CURLUPART_URL, href, 0) != CURLUE_OK) return "";  // relative to base
  const std::string scheme = part(url.get(), CURLUPART_SCHEME);
  if ((scheme != "http" && scheme != "https") || part(url.get(), CURLUPART_HOST) != host ||
      part(url.get(), CURLUPART_PORT) != port) {
    return "";
  }
  curl_url_set(url.get(), CURLUPART_FRAGMENT, nullptr, 0);
  return part(url.get(), CURLUPART_URL);
}

// The same-site links of an HTML page, resolved against its URL. Walks gumbo's tree with an
// explicit stack: a deeply nested page must not overflow ours.
inline std::vector<std::string> ExtractLinks(const std::string& html, const std::string& page_url) {
  std::vector<std::string> links;
  std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> doc(
      gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size()),
      [](GumboOutput* out) { gumbo_destroy_output(&kGumboDefaultOptions, out); });
  std::vector<const GumboNode*> stack{doc->root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    if (node->v.element.tag == GUMBO_TAG_A) {
      if (const GumboAttribute* href = gumbo_get_attribute(&node->v.element.attributes, "href")) {
        if (std::string url = ResolveSameSite(page_url, href->value); !url.empty()) links.push_back(std::move(url));
      }
    }
    const GumboVector& children = node->v.element.children;
    for (unsigned i = children.length; i-- > 0;) stack.push_back(static_cast<const GumboNode*>(children.data[i]));
  }
  return links;
}

// The CPU time this process has used so far, user and system, in all its threads: the kernel's
// accounting, so time a thread spent waiting for a core (the machine is shared) is not in it.
inline double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

// How many cores the crawl kept busy, printed before the report by the steps where that is the
// point (2, 3 and 7): "cpu: 7.90 s in 8.00 s: 0.99 cores busy".
inline void PrintCpu(double seconds) {
  const double cpu = CpuSeconds();
  std::printf("cpu: %.2f s in %.2f s: %.2f cores busy\n", cpu, seconds, seconds > 0 ? cpu / seconds : 0.0);
}

// The last line of every step, which the tutorial's script and the smoke tests read:
//   pages: 200  errors: 0  seconds: 1.234  pages/s: 162.1
inline void PrintReport(int pages, int errors, double seconds) {
  std::printf("pages: %d  errors: %d  seconds: %.3f  pages/s: %.1f\n", pages, errors, seconds,
              seconds > 0 ? pages / seconds : 0.0);
  std::fflush(stdout);
}

}  // namespace tutorial
