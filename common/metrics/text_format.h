// The pieces of the Prometheus text exposition format 0.0.4 that need care:
// escaping of HELP text and label values, and the spelling of sample values
// (Go's shortest float form, "+Inf", "-Inf", "NaN"). The registry renders
// whole families with these; they are pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tcc::metrics {

// The Content-Type of a scrape in this format.
inline constexpr absl::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// HELP text: backslash -> \\, newline -> \n.
std::string EscapeHelp(absl::string_view help);
// Label values: backslash -> \\, double quote -> \", newline -> \n.
std::string EscapeLabelValue(absl::string_view value);
// The shortest text that reads back as `value`, as Go's Prometheus client
// writes it: "3", "0.25", "0.0005", "1e-05", "1e+06", "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);
// `{a="x",b="y"}` (empty when there are no labels); the values are escaped.
// `names` and `values` have the same length.
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values);

// Reading a scrape back (tests, the benchmark): the value of the sample
// `series` (its name and labels as rendered, e.g. `tcc_store_batch_size_sum`
// or `tcc_rpc_total{method="Try"}`) in the text `page`; nullopt if there is
// no such line or its value is not a number.
std::optional<double> FindSample(absl::string_view page, absl::string_view series);

// Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__" (reserved).
bool IsValidMetricName(absl::string_view name);
bool IsValidLabelName(absl::string_view name);

}  // namespace tcc::metrics
