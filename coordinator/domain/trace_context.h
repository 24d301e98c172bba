// W3C Trace Context (https://www.w3.org/TR/trace-context/) as the
// coordinator carries it: an initiator sends a `traceparent` (gRPC
// metadata) with Begin or a saga; the coordinator stores it with the GT,
// sends it on every participant call and back-query of that GT, and names
// its trace id in every log line about the GT, so one transaction can be
// followed across services. No exporter: the coordinator propagates the
// context and logs it; it records no spans of its own.
//
// Following the specification, a malformed traceparent is ignored (the GT
// has none), not an error: a tracing library's bad header must never fail a
// payment.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

// The metadata key, lower case as gRPC requires.
inline constexpr char kTraceparentKey[] = "traceparent";

// True for a version-00 traceparent "00-<32 hex trace id>-<16 hex parent
// id>-<2 hex flags>" with non-zero ids (lower-case hex, as the spec says),
// and for a later version's header whose first 55 characters have that
// shape.
bool IsValidTraceparent(absl::string_view traceparent);

// `traceparent` if valid, otherwise "" (ignored, as the spec asks).
std::string AcceptTraceparent(absl::string_view traceparent);

// The 32-hex trace id of a valid traceparent; "" otherwise.
absl::string_view TraceIdOf(absl::string_view traceparent);

// How log lines name a GT: "gid=G", plus " trace=<trace id>" when it has a
// trace context.
std::string LogTag(const GlobalTransaction& gt);

}  // namespace tcc
