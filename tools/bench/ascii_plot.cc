#include "tools/bench/ascii_plot.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tcc::bench {
namespace {

constexpr int kAxisWidth = 10;  // "  1234.5 |"

std::string AxisLabel(double value) { return absl::StrFormat("%8.1f |", value); }

}  // namespace

std::string PlotSeries(const std::vector<double>& values, const PlotOptions& options,
                       const std::string& first_x, const std::string& last_x) {
  std::string out = absl::StrCat(options.title, "\n");
  if (values.empty()) return out;
  double top = *std::max_element(values.begin(), values.end());
  if (top <= 0) top = 1;
  const int height = std::max(options.height, 2);
  for (int row = height; row >= 1; --row) {
    // A column is filled up to its value's share of `top`, rounded.
    double threshold = top * (row - 0.5) / height;
    std::string line = row == height ? AxisLabel(top) : row == 1 ? AxisLabel(0) : "         |";
    for (double value : values) line += value >= threshold ? '#' : ' ';
    absl::StrAppend(&out, line, "\n");
  }
  absl::StrAppend(&out, std::string(kAxisWidth - 1, ' '), "+", std::string(values.size(), '-'),
                  "\n");
  if (!first_x.empty() || !last_x.empty()) {
    std::string labels(kAxisWidth, ' ');
    labels += first_x;
    size_t end = kAxisWidth + values.size();
    if (labels.size() + 1 + last_x.size() <= end) {
      labels += std::string(end - labels.size() - last_x.size(), ' ');
    } else {
      labels += ' ';
    }
    absl::StrAppend(&out, labels, last_x, "\n");
  }
  return out;
}

}  // namespace tcc::bench
