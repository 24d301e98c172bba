#include "tests/test_util/test_certs.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/process/child_process.h"

namespace tcc::testing {
namespace {

constexpr char kExtensions[] =
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth,clientAuth\n";

// RunCommand does not search $PATH; env does.
absl::Status Openssl(std::vector<std::string> args) {
  std::string command = args.front();
  args.insert(args.begin(), {"/usr/bin/env", "openssl"});
  absl::StatusOr<process::CommandResult> run =
      process::RunCommand(args, {.timeout = absl::Seconds(30)});
  if (!run.ok()) return run.status();
  if (run->exit_code() != 0) {
    return absl::InternalError(absl::StrCat("openssl ", command, " failed (", run->exit_code(),
                                            "): ", run->output,
                                            " (tools/setup.sh installs openssl)"));
  }
  return absl::OkStatus();
}

CertFiles FilesOf(const std::string& dir, const std::string& name) {
  return {absl::StrCat(dir, "/", name, ".pem"), absl::StrCat(dir, "/", name, ".key")};
}

}  // namespace

absl::StatusOr<TestCa> TestCa::Create(const std::string& dir, const std::string& name) {
  CertFiles ca = FilesOf(dir, name);
  absl::Status made =
      Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", ca.key_file, "-out", ca.cert_file, "-days", "2", "-subj",
               "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,keyCertSign,cRLSign"});
  if (!made.ok()) return made;
  return TestCa(dir, std::move(ca));
}

absl::StatusOr<CertFiles> TestCa::Issue(const std::string& name) const {
  CertFiles leaf = FilesOf(dir_, name);
  std::string csr = absl::StrCat(dir_, "/", name, ".csr");
  std::string extensions = absl::StrCat(dir_, "/", name, ".ext");
  std::ofstream(extensions) << kExtensions;
  absl::Status made =
      Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", leaf.key_file, "-out", csr, "-subj", "/CN=" + name});
  if (!made.ok()) return made;
  made = Openssl({"x509", "-req", "-in", csr, "-CA", ca_.cert_file, "-CAkey", ca_.key_file,
                  "-CAcreateserial", "-out", leaf.cert_file, "-days", "1", "-extfile", extensions});
  if (!made.ok()) return made;
  return leaf;
}

absl::Status WriteBundle(const std::string& path, const std::vector<std::string>& files) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", file));
    out << in.rdbuf();
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace tcc::testing
