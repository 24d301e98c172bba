#include "tools/tccctl/format.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tcc::tccctl {
namespace {

constexpr size_t kMaxGidLength = 128;

absl::Status BadDuration(const std::string& text, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "malformed duration \"", OneLine(text), "\": ", why, " (examples: 500ms, 90s, 5m, 2h, 1d)"));
}

// The unit at the start of `rest`, or zero when there is none we know.
absl::Duration UnitAt(const std::string& rest, size_t* length) {
  static const struct {
    const char* name;
    absl::Duration unit;
  } kUnits[] = {{"ms", absl::Milliseconds(1)},
                {"s", absl::Seconds(1)},
                {"m", absl::Minutes(1)},
                {"h", absl::Hours(1)},
                {"d", absl::Hours(24)}};
  for (const auto& unit : kUnits) {
    size_t n = std::char_traits<char>::length(unit.name);
    if (rest.compare(0, n, unit.name) == 0) {
      *length = n;
      return unit.unit;
    }
  }
  return absl::ZeroDuration();
}

// Two units, the second zero-padded: "3m05s", "1h02m".
std::string TwoUnits(int64_t major, const char* major_unit, int64_t minor, const char* minor_unit) {
  if (minor == 0) return absl::StrCat(major, major_unit);
  return absl::StrFormat("%d%s%02d%s", major, major_unit, minor, minor_unit);
}

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
         c == '-';
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(const std::string& text) {
  if (text.empty()) return BadDuration(text, "it is empty");
  absl::Duration total = absl::ZeroDuration();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t digits = 0;
    while (pos + digits < text.size() && absl::ascii_isdigit(text[pos + digits])) ++digits;
    if (digits == 0) return BadDuration(text, "expected a number at offset " + std::to_string(pos));
    if (digits > 9) return BadDuration(text, "number too large");
    int64_t value = 0;
    (void)absl::SimpleAtoi(text.substr(pos, digits), &value);
    pos += digits;
    size_t unit_length = 0;
    absl::Duration unit = UnitAt(text.substr(pos), &unit_length);
    if (unit == absl::ZeroDuration()) return BadDuration(text, "each number needs a unit");
    pos += unit_length;
    total += value * unit;
  }
  return total;
}

std::string HumanDuration(absl::Duration duration) {
  if (duration < absl::ZeroDuration()) return "-" + HumanDuration(-duration);
  int64_t ms = absl::ToInt64Milliseconds(duration);
  if (ms == 0) return "0s";
  if (ms < 1000) return absl::StrCat(ms, "ms");
  int64_t s = ms / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return TwoUnits(s / 60, "m", s % 60, "s");
  if (s < 86400) return TwoUnits(s / 3600, "h", s % 3600 / 60, "m");
  return TwoUnits(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string HumanMillis(int64_t millis) { return HumanDuration(absl::Milliseconds(millis)); }

std::string FormatTime(int64_t unix_ms, absl::TimeZone zone) {
  if (unix_ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromUnixMillis(unix_ms), zone);
}

std::string FormatRelative(int64_t unix_ms, absl::Time now) {
  if (unix_ms == 0) return "-";
  absl::Duration offset = absl::FromUnixMillis(unix_ms) - now;
  if (absl::AbsDuration(offset) < absl::Seconds(1)) return "now";
  if (offset > absl::ZeroDuration()) return "in " + HumanDuration(offset);
  return HumanDuration(-offset) + " ago";
}

std::string FormatTimeWithAge(int64_t unix_ms, absl::Time now, absl::TimeZone zone) {
  if (unix_ms == 0) return "-";
  return absl::StrCat(FormatTime(unix_ms, zone), " (", FormatRelative(unix_ms, now), ")");
}

std::string OneLine(const std::string& text) {
  std::string line = text;
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return line;
}

size_t DisplayWidth(const std::string& text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); });
}

std::string Truncate(const std::string& text, size_t width) {
  if (DisplayWidth(text) <= width) return text;
  if (width <= 3) return std::string(width, '.');
  size_t keep = width - 3, points = 0, end = 0;
  for (; end < text.size(); ++end) {
    if (!IsContinuationByte(text[end]) && points++ == keep) break;
  }
  return text.substr(0, end) + "...";
}

bool IsValidGid(const std::string& gid) {
  return !gid.empty() && gid.size() <= kMaxGidLength &&
         std::all_of(gid.begin(), gid.end(), IsIdChar);
}

}  // namespace tcc::tccctl
