#include "examples/points-pay/cluster/binaries.h"

namespace pointspay {

Binaries DefaultBinaries() {
  return {PP_TCCD_PATH, PP_POINTS_SERVICE_PATH, PP_PAYLOG_SERVICE_PATH, PP_ORDER_SERVICE_PATH};
}

}  // namespace pointspay
