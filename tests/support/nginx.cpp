#include "tests/support/nginx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/poll.h"

namespace fanout::test {
namespace {

// A port nobody listens on now: the kernel's pick for a socket bound to port 0. Another process may
// take it before nginx binds it, which StartOn sees in nginx's error log, and the caller tries again.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

NginxServer::NginxServer(NginxOptions options) : options_(std::move(options)) {
  if (access(kBinary, X_OK) != 0) {
    error_ = std::string(kBinary) + " is not installed (Debian: apt-get install nginx-light; scripts/test.sh does)";
    return;
  }
  std::filesystem::create_directories(options_.dir + "/logs");
  // Only a port taken between UnusedPort and nginx's bind is worth another try.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = UnusedPort();
    error_ = port != 0 ? StartOn(port) : "no free port on 127.0.0.1";
    if (error_.empty()) {
      port_ = port;
      return;
    }
    if (error_.find("Address already in use") == std::string::npos) return;
  }
}

NginxServer::~NginxServer() = default;  // ~Subprocess kills and reaps it

std::string NginxServer::url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

std::string NginxServer::StartOn(int port) {
  const std::string& d = options_.dir;
  const std::string conf = d + "/nginx.conf";
  const std::string error_log = d + "/logs/error.log";
  std::filesystem::remove(error_log);
  std::filesystem::remove(d + "/logs/access.log");
  {
    std::ofstream out(conf);
    out << "daemon off;\n"
           "master_process off;\n"
           "worker_processes 1;\n"
        << "error_log " << error_log << " warn;\n"
        << "pid " << d << "/nginx.pid;\n"
        << "events { worker_connections 256; }\n"
           "http {\n"
           "  types { text/html html; text/css css; text/plain txt; image/png png; application/pdf pdf; }\n"
           "  default_type application/octet-stream;\n"
           "  log_format probe '$connection $ssl_session_reused $server_protocol $request_uri';\n"
        << "  client_body_temp_path " << d << "/body;\n"
        << "  proxy_temp_path " << d << "/proxy;\n"
        << "  fastcgi_temp_path " << d << "/fastcgi;\n"
        << "  uwsgi_temp_path " << d << "/uwsgi;\n"
        << "  scgi_temp_path " << d << "/scgi;\n"
        << "  ssl_certificate " << options_.cert_file << ";\n"
        << "  ssl_certificate_key " << options_.key_file << ";\n"
        // nginx 1.22 offers TLS 1.3 only when asked, and resumes sessions only with a cache.
        << "  ssl_protocols " << options_.tls_protocols << ";\n"
        << "  ssl_session_cache shared:SSL:1m;\n"
           // A crawl's requests on one connection must not be cut by nginx's default of 1000.
           "  keepalive_requests 100000;\n"
           "  server {\n"
        << "    listen 127.0.0.1:" << port << " ssl" << (options_.http2 ? " http2" : "") << ";\n"
        << (options_.backend.empty() ? "    root " + options_.root + ";\n"
                                     : "    location / { proxy_pass http://" + options_.backend +
                                           "; proxy_http_version 1.1; proxy_set_header Connection \"\"; }\n")
        << "    access_log " << d << "/logs/access.log probe;\n"
           "  }\n"
           "}\n";
    if (!out) return "cannot write " + conf;
  }
  process_ = std::make_unique<Subprocess>(std::vector<std::string>{kBinary, "-p", d + "/", "-c", conf});
  // nginx binds its port before it serves, and exits when it cannot.
  bool exited = false;
  const bool ready = PollUntil(20, [&] {
    exited = process_->Exited();
    return exited || Accepts(port);
  });
  if (ready && !exited) return "";
  std::string why = exited ? "nginx exited" : "nginx did not accept connections within 20 s";
  ProcessResult r = process_->Wait(5000);
  process_.reset();
  return why + ": " + r.err + ReadFile(error_log);
}

std::vector<NginxRequest> NginxServer::Requests() const {
  std::vector<NginxRequest> requests;
  std::string text = ReadFile(options_.dir + "/logs/access.log");
  text.erase(text.rfind('\n') + 1);  // nginx writes a line at once, but a read may still end within one
  std::istringstream log(text);
  std::string line;
  while (std::getline(log, line)) {
    std::istringstream fields(line);
    NginxRequest r;
    std::string reused;
    if (!(fields >> r.connection >> reused >> r.protocol >> r.uri)) continue;
    r.session_reused = reused == "r";
    requests.push_back(std::move(r));
  }
  return requests;
}

}  // namespace fanout::test
