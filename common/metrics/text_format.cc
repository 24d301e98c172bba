#include "common/metrics/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tcc::metrics {
namespace {

// Escapes backslash and newline, and the double quote when `quote`.
std::string Escape(absl::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsNameChar(char c, bool first, bool colon) {
  if (absl::ascii_isalpha(c) || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && absl::ascii_isdigit(c);
}

bool IsName(absl::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

}  // namespace

std::string EscapeHelp(absl::string_view help) { return Escape(help, /*quote=*/false); }

std::string EscapeLabelValue(absl::string_view value) { return Escape(value, /*quote=*/true); }

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(value, 'g', -1, 64), as Prometheus' own
  // clients write: the shortest digits, in exponent form only when the
  // exponent is below -4 or at least 6 ("1e-05", "0.0005", "1e+06").
  char buffer[64];
  std::to_chars_result written =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string scientific(buffer, written.ptr);
  int exponent = 0;
  if (size_t e = scientific.find('e'); e != std::string::npos) {
    (void)absl::SimpleAtoi(scientific.substr(e + 1), &exponent);
  }
  if (exponent < -4 || exponent >= 6) return scientific;
  written = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  return std::string(buffer, written.ptr);
}

std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values) {
  if (names.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", names[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  out += "}";
  return out;
}

std::optional<double> FindSample(absl::string_view page, absl::string_view series) {
  const std::string line_start = absl::StrCat(series, " ");
  size_t at = absl::StartsWith(page, line_start) ? 0 : page.find(absl::StrCat("\n", line_start));
  if (at == absl::string_view::npos) return std::nullopt;
  if (at != 0) ++at;  // past the newline
  absl::string_view rest = page.substr(at + line_start.size());
  // The value ends the line or is followed by a timestamp.
  std::string value(rest.substr(0, rest.find_first_of(" \n")));
  char* end = nullptr;
  double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size()) return std::nullopt;
  return parsed;
}

bool IsValidMetricName(absl::string_view name) { return IsName(name, /*colon=*/true); }

bool IsValidLabelName(absl::string_view name) {
  return IsName(name, /*colon=*/false) && !absl::StartsWith(name, "__");
}

}  // namespace tcc::metrics
