// A throwaway PKI made with Debian's `openssl` command, for a test or one
// run of a tool (tcc_bench --tls, the points-payment launcher's --tls):
// a CA, and certificates it signs that serve both as server certificates
// (SAN IP:127.0.0.1 and DNS:localhost, plus any others asked for) and as
// client certificates. EC P-256 keys: quick to generate. Nothing is checked
// in and nothing outlives a day. Files land in the directory given, named
// after the CA or certificate: <dir>/<name>.pem and <dir>/<name>.key.
//
// Thread-safety: a ThrowawayCa may issue from one thread at a time (openssl
// writes the CA's serial file).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tcc {

struct CertFiles {
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM private key (PKCS#8)
};

class ThrowawayCa {
 public:
  // A self-signed CA "CN=<name>", valid two days.
  static absl::StatusOr<ThrowawayCa> Create(const std::string& dir, const std::string& name);

  // The CA's certificate: the bundle a peer verifies with.
  const std::string& cert_file() const { return ca_.cert_file; }

  // "CN=<name>" signed by this CA, valid one day, SAN IP:127.0.0.1 and
  // DNS:localhost plus `extra_sans` (openssl syntax, e.g.
  // "URI:spiffe://tcc.test/shop"), for server and client authentication.
  absl::StatusOr<CertFiles> Issue(const std::string& name,
                                  const std::vector<std::string>& extra_sans = {}) const;
  // As Issue, but valid only during 2020-01-01: expired (for tests).
  absl::StatusOr<CertFiles> IssueExpired(const std::string& name) const;

 private:
  ThrowawayCa(std::string dir, CertFiles ca) : dir_(std::move(dir)), ca_(std::move(ca)) {}
  // A key and a signing request for "CN=<name>"; the request's path.
  absl::StatusOr<std::string> Request(const std::string& name, const CertFiles& leaf,
                                      const std::vector<std::string>& extra_sans) const;

  std::string dir_;
  CertFiles ca_;
};

}  // namespace tcc
