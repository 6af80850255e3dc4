// CDXJ, the index pywb (and OutbackCDX) replay from: one line per capture, "SURT TIMESTAMP JSON",
// sorted so that a binary search on the SURT key finds a URL's captures.
//
// Threads: safe from any thread.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace fanout {

// The SURT sort key of `url`, by the rules of the surt library pywb uses (with_scheme off):
// scheme and fragment dropped, host lowercased and reversed with "www." (and "www2." ...) dropped,
// the scheme's default port dropped, userinfo dropped, percent-escapes decoded and only bytes
// that need it re-escaped, dot segments and repeated slashes resolved, path and query
// lowercased, a trailing slash dropped, query arguments sorted, an empty query dropped:
// "http://www.Example.com:80/a?b=1" -> "com,example)/a?b=1".
// A URL without "://" ("dns:example.com") is its own key. Session-ID stripping is not done.
std::string SurtKey(std::string_view url);

// Writes one CDXJ line per response and revisit record of `files` (.warc.gz, in any order):
// SURT 14-digit-timestamp {"url":..,"mime":..,"status":"200","digest":"sha1:..","length":"..",
// "offset":"..","filename":"basename"}; "mime" is the HTTP Content-Type without parameters, or
// "warc/revisit". The lines are sorted bytewise (LC_ALL=C sort), as pywb expects. A torn last
// record is left out, as it is not readable. Returns the number of lines.
// Errors: those of reading the files; IOError when `out` fails.
Result<size_t> WriteCdxj(const std::vector<std::string>& files, std::ostream& out);

}  // namespace fanout
