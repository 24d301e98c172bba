// A small text chart of one series of samples, for terminals and Markdown
// (tcc_bench soak prints one per measured quantity). The vertical axis
// starts at zero so that "flat" reads as flat; each sample is one column.
// Stateless and thread-safe.
#pragma once

#include <string>
#include <vector>

namespace tcc::bench {

struct PlotOptions {
  std::string title;  // e.g. "store file (MB)"
  int height = 8;     // rows of the chart
};

// `values` left to right; `first_x` and `last_x` (optional) are printed
// under the first and last columns. Empty values give just the title.
std::string PlotSeries(const std::vector<double>& values, const PlotOptions& options,
                       const std::string& first_x = "", const std::string& last_x = "");

}  // namespace tcc::bench
