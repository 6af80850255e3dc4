#include "tests/support/test_ca.h"

#include <fstream>
#include <vector>

#include "tests/support/subprocess.h"

namespace fanout::test {
namespace {

Status Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  const ProcessResult r = RunProcess(args, 60000);
  if (r.exit_code == 0) return Status::Ok();
  return Status::IOError("openssl " + args[1] + " exited " + std::to_string(r.exit_code) + ": " + r.err);
}

}  // namespace

Status TestCa::Create() const {
  if (Status s = Openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", File("ca.key"), "-out",
                          File("ca.pem"), "-days", "2", "-subj", "/CN=fanout test CA"});
      !s.ok()) {
    return s;
  }
  return Openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", server_key(), "-out", File("server.csr"), "-subj",
                  "/CN=127.0.0.1"});
}

Status TestCa::Sign(const std::string& name, const std::string& san, int days, bool by_ca) const {
  const std::string ext = File(name + ".ext");
  {
    std::ofstream out(ext);
    out << "subjectAltName=" << san << "\n";
    if (!out) return Status::IOError("cannot write " + ext);
  }
  std::vector<std::string> args = {"x509", "-req", "-in", File("server.csr"), "-out", Cert(name),
                                   "-days", std::to_string(days), "-extfile", ext};
  if (by_ca) {
    args.insert(args.end(), {"-CA", cert(), "-CAkey", File("ca.key"), "-CAcreateserial"});
  } else {
    args.insert(args.end(), {"-signkey", server_key()});
  }
  return Openssl(args);
}

}  // namespace fanout::test
