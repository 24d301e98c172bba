#include "tools/bench/tccd_metrics.h"

#include <httplib.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/metrics/text_format.h"

namespace tcc::bench {

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
  std::optional<double> value = metrics::FindSample(got->body, name);
  if (!value) return absl::NotFoundError(absl::StrCat("/metrics has no sample ", name));
  return *value;
}

}  // namespace tcc::bench
