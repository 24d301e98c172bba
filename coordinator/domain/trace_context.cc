#include "coordinator/domain/trace_context.h"

#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsAllZero(absl::string_view text) { return text.find_first_not_of('0') == text.npos; }

}  // namespace

bool IsValidTraceparent(absl::string_view traceparent) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2): 55 characters.
  constexpr size_t kLength = 55;
  if (traceparent.size() < kLength) return false;
  absl::string_view version = traceparent.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return false;
  // Version 00 is exactly 55 characters; a later one may append "-...".
  if (version == "00" ? traceparent.size() != kLength
                      : (traceparent.size() > kLength && traceparent[kLength] != '-')) {
    return false;
  }
  if (traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') return false;
  absl::string_view trace_id = traceparent.substr(3, 32);
  absl::string_view parent_id = traceparent.substr(36, 16);
  absl::string_view flags = traceparent.substr(53, 2);
  return IsLowerHex(trace_id) && IsLowerHex(parent_id) && IsLowerHex(flags) &&
         !IsAllZero(trace_id) && !IsAllZero(parent_id);
}

std::string AcceptTraceparent(absl::string_view traceparent) {
  return IsValidTraceparent(traceparent) ? std::string(traceparent) : std::string();
}

absl::string_view TraceIdOf(absl::string_view traceparent) {
  return IsValidTraceparent(traceparent) ? traceparent.substr(3, 32) : absl::string_view();
}

std::string LogTag(const GlobalTransaction& gt) {
  absl::string_view trace_id = TraceIdOf(gt.traceparent);
  if (trace_id.empty()) return absl::StrCat("gid=", gt.gid);
  return absl::StrCat("gid=", gt.gid, " trace=", trace_id);
}

}  // namespace tcc
