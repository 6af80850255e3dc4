// RFC 9309 section 5.1's example file, which the robots.txt tests and the conformance table share.
#pragma once

#include <string_view>

namespace fanout::test {

inline constexpr std::string_view kRfc9309Example =
    "User-Agent: *\n"
    "Disallow: *.gif$\n"
    "Disallow: /example/\n"
    "Allow: /publications/\n"
    "\n"
    "User-Agent: foobot\n"
    "Disallow:/\n"
    "Allow:/example/page.html\n"
    "Allow:/example/allowed.gif\n"
    "\n"
    "User-Agent: barbot\n"
    "User-Agent: bazbot\n"
    "Disallow: /example/page.html\n"
    "\n"
    "User-Agent: quxbot\n";

}  // namespace fanout::test
