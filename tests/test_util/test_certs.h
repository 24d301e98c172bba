// Throwaway PKI for TLS tests, made at test time with Debian's `openssl`
// command (common/tls/throwaway_pki.h: nothing checked in, nothing that
// expires between runs): the usual two CAs of a TLS test, CA bundles, and
// the directory layout of a safe rotation.
//
// Thread-safety: a TestCa may issue from one thread at a time (openssl
// writes the CA's serial file).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls/throwaway_pki.h"

namespace tcc::testing {

using ::tcc::CertFiles;
// A CA made at test time (common/tls/throwaway_pki.h).
using TestCa = ::tcc::ThrowawayCa;

// The usual PKI of a TLS test: "ca", which the parties trust, and
// "other-ca", which they do not (foreign certificates), both in `dir`.
class TestPki {
 public:
  static absl::StatusOr<TestPki> Create(const std::string& dir);

  const TestCa& ca() const { return ca_; }
  const TestCa& other_ca() const { return other_ca_; }
  // Issued by ca() (TestCa::Issue).
  absl::StatusOr<CertFiles> Issue(const std::string& name,
                                  const std::vector<std::string>& extra_sans = {}) const {
    return ca_.Issue(name, extra_sans);
  }
  // Issued by other_ca(): refused by anyone who trusts only ca().
  absl::StatusOr<CertFiles> IssueForeign(const std::string& name) const {
    return other_ca_.Issue(name);
  }

 private:
  TestPki(TestCa ca, TestCa other_ca) : ca_(std::move(ca)), other_ca_(std::move(other_ca)) {}

  TestCa ca_;
  TestCa other_ca_;
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
