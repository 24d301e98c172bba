// points_service: the participant that holds users' loyalty points. Actions
// points.freeze and points.refund (see points_actions.h).
//
//   points_service --listen=127.0.0.1:0 --port_file=points.port --db=points.db
#include "examples/points-pay/common/participant_main.h"
#include "examples/points-pay/common/schema.h"
#include "examples/points-pay/points_service/points_actions.h"

int main(int argc, char** argv) {
  return pointspay::RunParticipantMain(
      {.name = "points_service",
       .description = "Points service: freezes, deducts and refunds loyalty points (TCC)",
       .create_schema = pointspay::CreatePointsSchema,
       .add_actions = pointspay::AddPointsActions},
      argc, argv);
}
