// Text helpers for tccctl: durations ("90s", "3m12s"), timestamps in the
// local zone with a relative age, and squeezing server-provided text into one
// table cell. Pure functions of their arguments (the clock and the time zone
// are passed in), so they are deterministic in tests and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tcc::tccctl {

// Parses an operator's duration: one or more <integer><unit> groups with
// units ms, s, m, h, d ("90s", "5m", "1h30m", "1d"). A bare number, an
// unknown unit or a negative value is INVALID_ARGUMENT naming the input.
absl::StatusOr<absl::Duration> ParseDuration(const std::string& text);

// Formats a duration for people with at most two units: "45ms", "12s",
// "3m12s", "1h02m", "2d03h". Negative durations get a leading '-'.
std::string HumanDuration(absl::Duration duration);
std::string HumanMillis(int64_t millis);

// "2024-05-01 12:03:04.123" in `zone`. 0 (unset) is "-".
std::string FormatTime(int64_t unix_ms, absl::TimeZone zone);

// Where `unix_ms` lies from `now`: "3m12s ago", "in 2s" or "now" (within a
// second). 0 (unset) is "-".
std::string FormatRelative(int64_t unix_ms, absl::Time now);

// FormatTime plus the relative form in parentheses.
std::string FormatTimeWithAge(int64_t unix_ms, absl::Time now, absl::TimeZone zone);

// Replaces line breaks, tabs and other control characters with spaces so
// that text from the server cannot break a table row.
std::string OneLine(const std::string& text);

// Display width of UTF-8 text (code points; good enough for error texts).
size_t DisplayWidth(const std::string& text);

// Cuts `text` to at most `width` code points, ending in "..." when cut.
std::string Truncate(const std::string& text, size_t width);

// True for 1..128 characters of [A-Za-z0-9._:-], the coordinator's gid rule.
bool IsValidGid(const std::string& gid);

}  // namespace tcc::tccctl
