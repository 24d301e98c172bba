// paylog_service: the participant that keeps the audit trail of payments
// and refunds. Actions paylog.pay and paylog.refund (see paylog_actions.h).
//
//   paylog_service --listen=127.0.0.1:0 --port_file=paylog.port --db=paylog.db
#include "examples/points-pay/common/participant_main.h"
#include "examples/points-pay/common/schema.h"
#include "examples/points-pay/paylog_service/paylog_actions.h"

int main(int argc, char** argv) {
  return pointspay::RunParticipantMain(
      {.name = "paylog_service",
       .description = "Pay-log service: records payments and refunds (TCC)",
       .create_schema = pointspay::CreatePaylogSchema,
       .add_actions = pointspay::AddPaylogActions},
      argc, argv);
}
