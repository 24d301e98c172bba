#include "coordinator/domain/validation.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
         c == '-';
}

// Quotes a caller's value for an error message without echoing megabytes or
// control bytes back.
std::string Quoted(absl::string_view value) {
  std::string shown(value.substr(0, 40));
  for (char& c : shown) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return absl::StrCat("\"", shown, value.size() > 40 ? "...\"" : "\"");
}

absl::Status ValidateId(absl::string_view value, absl::string_view field, size_t max_length) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value.size(), " characters long; the limit is ", max_length));
  }
  auto bad = std::find_if_not(value.begin(), value.end(), IsIdChar);
  if (bad != value.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quoted(value),
                     " has a character outside [A-Za-z0-9._:-] at offset ", bad - value.begin()));
  }
  return absl::OkStatus();
}

bool IsValidPort(absl::string_view port) {
  uint32_t number = 0;
  return !port.empty() && absl::SimpleAtoi(port, &number) && number > 0 && number <= 65535;
}

// host:port, with an optional bracketed IPv6 host.
bool IsHostPort(absl::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  absl::string_view host = address.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return false;
  return IsValidPort(address.substr(colon + 1));
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xe  ? 3
                    : (lead >> 3) == 0x1e ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code_point = length == 1 ? lead : lead & (0x7f >> length);
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid.
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

absl::Status ValidateText(absl::string_view text, absl::string_view field, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", text.size(), " bytes long; the limit is ", max_bytes));
  }
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status ValidateGid(absl::string_view gid) { return ValidateId(gid, "gid", kMaxGidLength); }

absl::Status ValidateBranchId(absl::string_view branch_id) {
  return ValidateId(branch_id, "branch_id", kMaxBranchIdLength);
}

absl::Status ValidateTarget(absl::string_view target, absl::string_view field) {
  if (target.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (target.size() > kMaxTargetLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxTargetLength, " characters"));
  }
  for (char c : target) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " ", Quoted(target), " contains whitespace or a control character"));
    }
  }
  absl::string_view rest = target;
  if (absl::StartsWith(rest, "unix:")) return absl::OkStatus();
  for (absl::string_view scheme : {"dns:///", "ipv4:", "ipv6:"}) {
    if (absl::StartsWith(rest, scheme)) rest.remove_prefix(scheme.size());
  }
  if (!IsHostPort(rest)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quoted(target),
                     " is not an address of the form host:port (e.g. 127.0.0.1:7501), "
                     "dns:///host:port or unix:/path"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBranch(const Branch& branch, const Limits& limits) {
  TCC_RETURN_IF_ERROR(ValidateBranchId(branch.branch_id));
  std::string where = absl::StrCat("branch ", branch.branch_id, ": ");
  absl::Status target = ValidateTarget(branch.target, "target");
  if (!target.ok()) return absl::InvalidArgumentError(absl::StrCat(where, target.message()));
  if (absl::Status action = ValidateText(branch.action, "action", kMaxActionLength); !action.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, action.message()));
  }
  if (branch.payload.size() > limits.max_payload_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, "payload is ", branch.payload.size(),
                                                   " bytes; the limit is ",
                                                   limits.max_payload_bytes));
  }
  if (branch.headers.size() > limits.max_headers_per_branch) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, branch.headers.size(), " headers; the limit is ", limits.max_headers_per_branch));
  }
  size_t header_bytes = 0;
  for (const auto& [key, value] : branch.headers) {
    header_bytes += key.size() + value.size();
    if (!IsValidUtf8(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "the value of header ", Quoted(key), " is not valid UTF-8"));
    }
  }
  if (header_bytes > limits.max_header_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "headers total ", header_bytes, " bytes; the limit is ", limits.max_header_bytes));
  }
  return absl::OkStatus();
}

}  // namespace tcc
