#include "common/process/tccd_process.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/process/port_file.h"

namespace tcc::process {

absl::StatusOr<std::unique_ptr<TccdProcess>> TccdProcess::Start(const Options& options,
                                                                absl::Duration timeout) {
  std::string port_file = options.work_dir + "/tccd.port";
  std::string http_port_file = options.work_dir + "/tccd.http_port";
  std::error_code ignored;
  std::filesystem::remove(port_file, ignored);  // a previous run's ports
  std::filesystem::remove(http_port_file, ignored);
  std::unique_ptr<TccdProcess> tccd(new TccdProcess(options.work_dir + "/tccd.log", options.env));
  std::vector<std::string> argv = {options.binary, "--listen=127.0.0.1:0",
                                   "--port_file=" + port_file, "--http_port_file=" + http_port_file,
                                   "--log_level=" + options.log_level};
  if (options.store.empty()) {
    argv.insert(argv.end(), {"--data=" + options.data, "--sync=" + options.sync});
  } else {
    argv.push_back("--store=" + options.store);
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  absl::Time started = absl::Now();
  if (absl::Status status = tccd->child_.Start(argv); !status.ok()) return status;
  absl::StatusOr<int> port = WaitForPortFile(port_file, tccd->child_, timeout);
  if (!port.ok()) {
    return absl::Status(port.status().code(),
                        absl::StrCat("tccd ", port.status().message(), "; see ", tccd->log_path()));
  }
  tccd->port_ = *port;
  // Written before the gRPC port; absent if extra_args turned HTTP off.
  tccd->http_port_ = ReadPortFile(http_port_file);
  tccd->startup_time_ = absl::Now() - started;
  return tccd;
}

std::string TccdProcess::address() const { return LoopbackAddress(port_); }

}  // namespace tcc::process
