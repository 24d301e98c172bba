#include "tests/test_util/test_certs.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace tcc::testing {

absl::StatusOr<TestPki> TestPki::Create(const std::string& dir) {
  absl::StatusOr<TestCa> ca = TestCa::Create(dir, "ca");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<TestCa> other = TestCa::Create(dir, "other-ca");
  if (!other.ok()) return other.status();
  return TestPki(*std::move(ca), *std::move(other));
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

void WriteGenerations(const std::filesystem::path& dir, const std::string& name,
                      const std::vector<std::pair<std::string, CertFiles>>& generations) {
  for (const auto& [generation, files] : generations) {
    std::filesystem::create_directory(dir / generation);
    std::filesystem::copy_file(files.cert_file, dir / generation / (name + ".pem"));
    std::filesystem::copy_file(files.key_file, dir / generation / (name + ".key"));
  }
}

void PointSymlinkAt(const std::filesystem::path& link, const std::filesystem::path& target) {
  std::filesystem::path temp = link;
  temp += ".new";
  std::filesystem::remove(temp);
  std::filesystem::create_directory_symlink(target, temp);
  std::filesystem::rename(temp, link);
}

}  // namespace tcc::testing
