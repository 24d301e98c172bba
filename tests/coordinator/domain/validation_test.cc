#include "coordinator/domain/validation.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;
using Code = absl::StatusCode;

TEST(ValidateGid, AcceptsThePrintableCharset) {
  EXPECT_OK(ValidateGid("order-42.pay:retry_1"));
  EXPECT_OK(ValidateGid(std::string(kMaxGidLength, 'a')));
}

TEST(ValidateGid, RefusesEmptyLongAndForeignCharacters) {
  EXPECT_THAT(ValidateGid(""), StatusIs(Code::kInvalidArgument, "gid is empty"));
  EXPECT_THAT(ValidateGid(std::string(kMaxGidLength + 1, 'a')),
              StatusIs(Code::kInvalidArgument, "129 characters long; the limit is 128"));
  EXPECT_THAT(ValidateGid("a b"), StatusIs(Code::kInvalidArgument, "at offset 1"));
  EXPECT_THAT(ValidateGid("caf\xc3\xa9"), StatusIs(Code::kInvalidArgument, "[A-Za-z0-9._:-]"));
  EXPECT_THAT(ValidateGid(std::string("a\0b", 3)), StatusIs(Code::kInvalidArgument));
}

TEST(ValidateTarget, AcceptsAddressForms) {
  for (const char* target : {"127.0.0.1:7501", "localhost:1", "dns:///points.svc:443",
                             "ipv4:10.0.0.1:80", "[::1]:7000", "unix:/tmp/p.sock"}) {
    EXPECT_OK(ValidateTarget(target, "target")) << target;
  }
}

TEST(ValidateTarget, RefusesMalformedAddresses) {
  for (const char* target :
       {"", "nohost", ":80", "host:", "host:0", "host:70000", "host:x", "a b:80", "[::1:80"}) {
    EXPECT_THAT(ValidateTarget(target, "target"), StatusIs(Code::kInvalidArgument)) << target;
  }
}

TEST(ValidateBranch, EnforcesPayloadAndHeaderLimits) {
  Limits limits;
  limits.max_payload_bytes = 10;
  Branch branch{.branch_id = "b1", .target = "127.0.0.1:1", .action = "a", .payload = "0123456789"};
  EXPECT_OK(ValidateBranch(branch, limits));
  branch.payload += "x";
  EXPECT_THAT(ValidateBranch(branch, limits),
              StatusIs(Code::kInvalidArgument, "payload is 11 bytes; the limit is 10"));
  branch.payload = "";
  for (int i = 0; i <= static_cast<int>(limits.max_headers_per_branch); ++i) {
    branch.headers[std::to_string(i)] = "v";
  }
  EXPECT_THAT(ValidateBranch(branch, limits), StatusIs(Code::kInvalidArgument, "headers"));
}

}  // namespace
}  // namespace tcc
