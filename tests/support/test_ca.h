// TestCa: a certificate authority for one test, made by the openssl command line in a directory the
// test owns: the CA (ca.pem, ca.key), one server key (server.key) and the certificates Sign() makes
// for it, each NAME.pem, valid for the names and days asked, signed by the CA or by nobody.
//
//   test::TestCa ca(dir_.path());
//   ASSERT_OK(ca.Create());
//   ASSERT_OK(ca.Sign("good", "IP:127.0.0.1,DNS:localhost"));
//   serve with ca.Cert("good") and ca.server_key(); crawl with --cacert ca.cert()
#pragma once

#include <filesystem>
#include <string>

#include "util/status.h"

namespace fanout::test {

class TestCa {
 public:
  // REQUIRES: `dir` exists and outlives the use of the files.
  explicit TestCa(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Makes the CA's key and self-signed certificate, and the server's key and signing request.
  Status Create() const;
  // Makes Cert(name): the server key's certificate for `san` (openssl's subjectAltName syntax:
  // "IP:127.0.0.1,DNS:localhost"), valid `days` days from now (negative: already expired), signed
  // by the CA, or by the server key itself when !by_ca (self-signed). REQUIRES: Create() was ok.
  Status Sign(const std::string& name, const std::string& san, int days = 2, bool by_ca = true) const;

  std::string cert() const { return File("ca.pem"); }  // the CA's certificate: what --cacert takes
  std::string server_key() const { return File("server.key"); }
  std::string Cert(const std::string& name) const { return File(name + ".pem"); }

 private:
  std::string File(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

}  // namespace fanout::test
