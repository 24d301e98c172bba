// Throwaway PKI for TLS tests, made at test time with Debian's `openssl`
// command (nothing checked in, nothing that expires between runs): a CA,
// and certificates it signs that serve both as server certificates (SAN
// IP:127.0.0.1 and DNS:localhost) and as client certificates. EC P-256
// keys: quick to generate. Files land in the directory given, named after
// the CA or certificate.
//
// Thread-safety: a TestCa may issue from one thread at a time (openssl
// writes the CA's serial file).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tcc::testing {

struct CertFiles {
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM private key (PKCS#8)
};

class TestCa {
 public:
  // A self-signed CA "CN=<name>": <dir>/<name>.pem and <dir>/<name>.key.
  static absl::StatusOr<TestCa> Create(const std::string& dir, const std::string& name);

  // The CA's certificate: the bundle a peer verifies with.
  const std::string& cert_file() const { return ca_.cert_file; }

  // "CN=<name>" signed by this CA, valid one day, SAN IP:127.0.0.1 and
  // DNS:localhost, usable for server and client authentication:
  // <dir>/<name>.pem and <dir>/<name>.key.
  absl::StatusOr<CertFiles> Issue(const std::string& name) const;
  // As Issue, but valid only during 2020-01-01: expired.
  absl::StatusOr<CertFiles> IssueExpired(const std::string& name) const;

 private:
  TestCa(std::string dir, CertFiles ca) : dir_(std::move(dir)), ca_(std::move(ca)) {}
  // A key and a signing request for "CN=<name>"; the request's path.
  absl::StatusOr<std::string> Request(const std::string& name, const CertFiles& leaf) const;

  std::string dir_;
  CertFiles ca_;
};

// Concatenates PEM files into one bundle at `path` (e.g. two CAs during a
// rotation).
absl::Status WriteBundle(const std::string& path, const std::vector<std::string>& files);

// The layout of a safe rotation: `<dir>/<generation>/<name>.pem|.key` for
// each generation of `files`, and `PointSymlinkAt` to switch `<dir>/live`
// between them in one rename, so a file watcher never reads a new key beside
// an old certificate.
void WriteGenerations(const std::filesystem::path& dir, const std::string& name,
                      const std::vector<std::pair<std::string, CertFiles>>& generations);
void PointSymlinkAt(const std::filesystem::path& link, const std::filesystem::path& target);

}  // namespace tcc::testing
