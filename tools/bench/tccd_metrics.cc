#include "tools/bench/tccd_metrics.h"

#include <httplib.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tcc::bench {

absl::StatusOr<double> MetricValue(absl::string_view page, absl::string_view name) {
  const std::string prefix = absl::StrCat(name, " ");
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    std::string value(line.substr(prefix.size()));
    char* end = nullptr;
    double parsed = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) {
      return absl::DataLossError(absl::StrCat("/metrics: ", name, " is not a number: ", value));
    }
    return parsed;
  }
  return absl::NotFoundError(absl::StrCat("/metrics has no sample ", name));
}

absl::StatusOr<double> ReadTccdMetric(int http_port, absl::string_view name) {
  if (http_port <= 0) return absl::UnavailableError("tccd serves no HTTP port");
  httplib::Client client("127.0.0.1", http_port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result got = client.Get("/metrics");
  if (!got || got->status != 200) {
    return absl::UnavailableError(absl::StrCat(
        "GET /metrics on port ", http_port,
        " failed: ", got ? absl::StrCat("HTTP ", got->status) : httplib::to_string(got.error())));
  }
  return MetricValue(got->body, name);
}

}  // namespace tcc::bench
