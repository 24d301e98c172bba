#include "common/tls/throwaway_pki.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/process/child_process.h"

namespace tcc {
namespace {

constexpr char kSans[] = "IP:127.0.0.1,DNS:localhost";
constexpr char kExtensions[] =
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

absl::StatusOr<ThrowawayCa> ThrowawayCa::Create(const std::string& dir, const std::string& name) {
  CertFiles ca = FilesOf(dir, name);
  absl::Status made =
      Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", ca.key_file, "-out", ca.cert_file, "-days", "2", "-subj",
               "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,keyCertSign,cRLSign"});
  if (!made.ok()) return made;
  return ThrowawayCa(dir, std::move(ca));
}

absl::StatusOr<std::string> ThrowawayCa::Request(const std::string& name, const CertFiles& leaf,
                                                 const std::vector<std::string>& extra_sans) const {
  std::string csr = absl::StrCat(dir_, "/", name, ".csr");
  std::string sans = kSans;
  for (const std::string& san : extra_sans) absl::StrAppend(&sans, ",", san);
  std::ofstream(absl::StrCat(dir_, "/", name, ".ext")) << "subjectAltName=" << sans << "\n"
                                                       << kExtensions;
  absl::Status made =
      Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", leaf.key_file, "-out", csr, "-subj", "/CN=" + name});
  if (!made.ok()) return made;
  return csr;
}

absl::StatusOr<CertFiles> ThrowawayCa::Issue(const std::string& name,
                                             const std::vector<std::string>& extra_sans) const {
  CertFiles leaf = FilesOf(dir_, name);
  absl::StatusOr<std::string> csr = Request(name, leaf, extra_sans);
  if (!csr.ok()) return csr.status();
  absl::Status made = Openssl({"x509", "-req", "-in", *csr, "-CA", ca_.cert_file, "-CAkey",
                               ca_.key_file, "-CAcreateserial", "-out", leaf.cert_file, "-days",
                               "1", "-extfile", absl::StrCat(dir_, "/", name, ".ext")});
  if (!made.ok()) return made;
  return leaf;
}

// `openssl x509` (3.0) cannot backdate; `openssl ca` can, with a minimal
// configuration of its own.
absl::StatusOr<CertFiles> ThrowawayCa::IssueExpired(const std::string& name) const {
  CertFiles leaf = FilesOf(dir_, name);
  absl::StatusOr<std::string> csr = Request(name, leaf, {});
  if (!csr.ok()) return csr.status();
  std::string base = absl::StrCat(dir_, "/", name, "-ca");
  std::ofstream(base + ".index");
  std::ofstream(base + ".serial") << "1000\n";
  std::ofstream(base + ".cnf") << "[ca]\ndefault_ca = test\n[test]\ndatabase = " << base
                               << ".index\nnew_certs_dir = " << dir_ << "\nserial = " << base
                               << ".serial\ndefault_md = sha256\npolicy = any\n"
                               << "[any]\ncommonName = supplied\n";
  absl::Status made = Openssl(
      {"ca", "-batch", "-notext", "-config", base + ".cnf", "-cert", ca_.cert_file, "-keyfile",
       ca_.key_file, "-in", *csr, "-out", leaf.cert_file, "-startdate", "20200101000000Z",
       "-enddate", "20200102000000Z", "-extfile", absl::StrCat(dir_, "/", name, ".ext")});
  if (!made.ok()) return made;
  return leaf;
}

}  // namespace tcc
