// RunPointsPay when the build has no points-payment example (the SDK and
// its examples are off: TCC_BUILD_SDK=OFF).
#include "tools/bench/points_pay_command.h"

namespace tcc::bench {

absl::Status RunPointsPay(const TccdOptions&, const LoadOptions&, bool) {
  return absl::UnimplementedError(
      "--mode=points-pay needs the points-payment example: build with -DTCC_BUILD_SDK=ON");
}

}  // namespace tcc::bench
