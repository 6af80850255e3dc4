// NginxServer: a private nginx for one test (Debian's /usr/sbin/nginx, which CI installs), serving a
// directory (or passing requests to a test's own server) over HTTPS on 127.0.0.1, HTTP/2 offered by ALPN (or not), with an access log that says
// for each request its connection, whether that connection resumed a TLS session, its protocol and
// its URI: what a test asserts about connections and sessions, counted at the server, not taken
// from the crawler. Everything nginx writes (configuration, pid, logs, temp files) is under the
// given directory.
//
// RAII: the constructor starts nginx and waits (bounded) until it accepts connections; the
// destructor kills it and reaps it. A failure to start (no nginx installed, a configuration it
// refuses, no free port after a few tries) is reported by error(), never thrown, so that the test
// fails with nginx's own words.
//
// Threads: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace fanout::test {

struct NginxOptions {
  std::string dir;        // nginx's prefix: its configuration, logs and temp files go here
  std::string root;       // the directory served, unless...
  std::string backend;    // ...this is set ("127.0.0.1:PORT"): every request is passed to it over HTTP/1.1
  std::string cert_file;  // PEM certificate chain for 127.0.0.1
  std::string key_file;   // its key
  bool http2 = true;      // `listen ... ssl http2`: offer h2 by ALPN
  std::string tls_protocols = "TLSv1.2 TLSv1.3";  // ssl_protocols
};

// One line of the access log, in the order nginx finished the requests.
struct NginxRequest {
  long connection = 0;       // $connection: nginx's serial number of the TCP connection
  bool session_reused = false;  // $ssl_session_reused: the connection resumed a TLS session
  std::string protocol;      // $server_protocol: "HTTP/2.0", "HTTP/1.1"
  std::string uri;           // $request_uri: path and query, as sent
};

class NginxServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nginx";

  explicit NginxServer(NginxOptions options);
  ~NginxServer();  // kills nginx and reaps it
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // "" when nginx accepts connections; otherwise why it does not.
  const std::string& error() const { return error_; }
  // https://127.0.0.1:PORT/ (with error() empty).
  std::string url() const;
  int port() const { return port_; }

  // The access log as it stands: nginx writes a line when a request ends, so a caller that needs
  // every request of a crawl polls until the count it expects is there (poll.h).
  std::vector<NginxRequest> Requests() const;

 private:
  // Writes the configuration for `port` and starts nginx; "" once it accepts, else why not.
  std::string StartOn(int port);

  NginxOptions options_;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
  std::string error_;
};

}  // namespace fanout::test
