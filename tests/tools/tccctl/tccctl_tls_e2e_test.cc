// The real tccctl and tccd binaries with mutual TLS: tccctl's --tls-* flags
// and TCC_TLS_* variables reach a tccd that requires client certificates;
// without them, or with a certificate tccd does not trust, the call fails
// with one line. And the real tccd refuses plaintext on a non-loopback
// address, saying what to do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/process/tccd_process.h"
#include "tcc/common/tls.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/test_util/command.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/test_certs.h"

namespace tcc {
namespace {

using ::tcc::process::TccdProcess;
using ::tcc::testing::CertFiles;
using ::tcc::testing::CommandResult;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;
using ::tcc::testing::TestCa;
using ::tcc::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TccctlTlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = TestPki::Create(dir_.path().string());
    ASSERT_OK(pki);
    pki_.emplace(*std::move(pki));
    ca_ = &pki_->ca();
    const TestCa* other = &pki_->other_ca();
    for (auto [name, files, issuer] : {std::tuple{"tccd", &tccd_cert_, ca_},
                                       {"operator", &operator_, ca_},
                                       {"intruder", &intruder_, other}}) {
      absl::StatusOr<CertFiles> issued = issuer->Issue(name);
      ASSERT_OK(issued);
      *files = *issued;
    }
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd = TccdProcess::Start(
        {.binary = TCCD_PATH,
         .data = dir_.File("tccd.db"),
         .work_dir = dir_.path().string(),
         .log_level = "error",
         .extra_args = {"--tls_cert=" + tccd_cert_.cert_file, "--tls_key=" + tccd_cert_.key_file,
                        "--tls_client_ca=" + ca_->cert_file()}});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
  }
  void TearDown() override {
    if (tccd_) tccd_->Stop();
  }

  // tccctl against the TLS tccd, with `env` added to its environment.
  CommandResult Tccctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {TCCCTL_PATH, "--addr=" + tccd_->address()});
    return RunCommandForTest(args, {.env = std::move(env), .separate_stderr = true});
  }
  std::vector<std::string> TlsFlags(const CertFiles& identity) const {
    return {"--tls-ca",         ca_->cert_file(), "--tls-cert",
            identity.cert_file, "--tls-key",      identity.key_file};
  }
  static bool OneLine(const std::string& text) {
    return !text.empty() && std::count(text.begin(), text.end(), '\n') == 1;
  }

  TempDir dir_;
  std::optional<TestPki> pki_;
  const TestCa* ca_ = nullptr;
  CertFiles tccd_cert_, operator_, intruder_;
  std::unique_ptr<TccdProcess> tccd_;
};

TEST_F(TccctlTlsE2eTest, FlagsAndEnvironmentVariablesReachTheTlsCoordinator) {
  CoordinatorClient client(tccd_->address(),
                           *MakeChannelCredentials({.cert_file = operator_.cert_file,
                                                    .key_file = operator_.key_file,
                                                    .ca_file = ca_->cert_file()}));
  ASSERT_OK(client.Begin("tls-show-1"));

  std::vector<std::string> args = {"show", "tls-show-1", "--json"};
  std::vector<std::string> flags = TlsFlags(operator_);
  args.insert(args.end(), flags.begin(), flags.end());
  CommandResult with_flags = Tccctl(args);
  ASSERT_EQ(with_flags.exit_code(), 0) << with_flags.error;
  EXPECT_EQ(nlohmann::json::parse(with_flags.output)["transaction"]["gid"], "tls-show-1");

  CommandResult with_env =
      Tccctl({"show", "tls-show-1", "--json"},
             {"TCC_TLS_CA=" + ca_->cert_file(), "TCC_TLS_CERT=" + operator_.cert_file,
              "TCC_TLS_KEY=" + operator_.key_file});
  ASSERT_EQ(with_env.exit_code(), 0) << with_env.error;
  EXPECT_EQ(nlohmann::json::parse(with_env.output)["transaction"]["gid"], "tls-show-1");
}

TEST_F(TccctlTlsE2eTest, WithoutATrustedCertificateTheCallFailsInOneLine) {
  CommandResult plaintext = Tccctl({"stats"});
  EXPECT_EQ(plaintext.exit_code(), 1);
  EXPECT_THAT(plaintext.error, StartsWith("tccctl: cannot reach the coordinator at"));
  EXPECT_TRUE(OneLine(plaintext.error)) << plaintext.error;

  CommandResult no_cert = Tccctl({"stats", "--tls-ca", ca_->cert_file()});
  EXPECT_EQ(no_cert.exit_code(), 1);
  EXPECT_THAT(no_cert.error, HasSubstr("over TLS (is tccd running? does --tls-ca hold"));
  EXPECT_TRUE(OneLine(no_cert.error)) << no_cert.error;

  std::vector<std::string> args = {"stats"};
  std::vector<std::string> flags = TlsFlags(intruder_);
  args.insert(args.end(), flags.begin(), flags.end());
  CommandResult foreign = Tccctl(args);
  EXPECT_EQ(foreign.exit_code(), 1);
  EXPECT_THAT(foreign.error, HasSubstr("over TLS"));
}

TEST_F(TccctlTlsE2eTest, AMissingFileIsAUsageErrorNamingTheVariable) {
  CommandResult missing = Tccctl({"stats"}, {"TCC_TLS_CA=" + dir_.File("absent.pem")});
  EXPECT_EQ(missing.exit_code(), 2);
  EXPECT_THAT(missing.error, HasSubstr("--tls-ca ($TCC_TLS_CA): cannot read"));
  EXPECT_TRUE(OneLine(missing.error)) << missing.error;
}

TEST(TccdListenTest, PlaintextOnANonLoopbackAddressIsRefusedAtStart) {
  TempDir dir;
  CommandResult tccd = RunCommandForTest(
      {TCCD_PATH, "--listen=0.0.0.0:0", "--http_listen=", "--data=" + dir.File("tccd.db")},
      {.timeout = absl::Seconds(20)});
  EXPECT_EQ(tccd.exit_code(), 1);
  EXPECT_THAT(tccd.output,
              HasSubstr("refusing to serve the coordinator API without TLS on non-loopback "
                        "address 0.0.0.0:0"));
  EXPECT_THAT(tccd.output, HasSubstr("--insecure"));
}

TEST(TccdListenTest, InsecureAndItsOldNameAllowPlaintextOnANonLoopbackAddress) {
  for (const char* flag : {"--insecure", "--allow_insecure"}) {
    TempDir dir;
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
        TccdProcess::Start({.binary = TCCD_PATH,
                            .data = dir.File("tccd.db"),
                            .work_dir = dir.path().string(),
                            .extra_args = {"--listen=0.0.0.0:0", "--http_listen=", flag}});
    ASSERT_OK(tccd) << flag;
    // 0.0.0.0 includes loopback, where the client dials.
    EXPECT_OK(CoordinatorClient((*tccd)->address()).Begin("plaintext-allowed")) << flag;
    (*tccd)->Stop();
    std::ifstream log((*tccd)->log_path());
    std::string text((std::istreambuf_iterator<char>(log)), {});
    EXPECT_THAT(text, HasSubstr("WITHOUT TLS on non-loopback 0.0.0.0:0 (--insecure)")) << flag;
  }
}

}  // namespace
}  // namespace tcc
