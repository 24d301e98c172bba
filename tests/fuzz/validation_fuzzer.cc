// Fuzzes request validation: arbitrary branches and saga steps through
// PlanTry and PrepareSagaSteps. Properties: no crash or sanitizer report;
// a refused plan leaves the transaction unchanged; an accepted one stays
// within the limits and points only at real branches.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>

#include "coordinator/domain/saga.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/validation.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

tcc::Branch FuzzedBranch(FuzzedDataProvider& data) {
  tcc::Branch branch;
  branch.branch_id = data.ConsumeRandomLengthString(80);
  branch.target = data.ConsumeRandomLengthString(300);
  branch.action = data.ConsumeRandomLengthString(150);
  branch.payload = data.ConsumeRandomLengthString(64);
  int headers = data.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < headers; ++i) {
    std::string key = data.ConsumeRandomLengthString(16);
    branch.headers[key] = data.ConsumeRandomLengthString(32);
  }
  int dependencies = data.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < dependencies; ++i)
    branch.depends_on.push_back(data.ConsumeRandomLengthString(8));
  return branch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  FuzzedDataProvider data(bytes, size);
  tcc::Limits limits;
  limits.max_branches_per_transaction = data.ConsumeIntegralInRange<uint32_t>(1, 8);
  limits.max_payload_bytes = data.ConsumeIntegralInRange<uint32_t>(0, 64);
  tcc::ValidateGid(data.ConsumeRandomLengthString(200)).IgnoreError();
  tcc::ValidateText(data.ConsumeRandomLengthString(64), "text", 32).IgnoreError();

  tcc::GlobalTransaction gt;
  gt.gid = "fuzz";
  int existing = data.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < existing; ++i) gt.branches.push_back(FuzzedBranch(data));
  std::vector<tcc::Branch> requested;
  int count = data.ConsumeIntegralInRange(0, 10);
  for (int i = 0; i < count; ++i) requested.push_back(FuzzedBranch(data));
  std::vector<tcc::Branch> steps = requested;

  size_t before = gt.branches.size();
  absl::StatusOr<tcc::TryPlan> plan = tcc::PlanTry(gt, std::move(requested), limits);
  if (!plan.ok()) {
    Check(gt.branches.size() == before);
  } else {
    Check(gt.branches.size() <= limits.max_branches_per_transaction || before > 0);
    for (size_t index : plan->requested) Check(index < gt.branches.size());
    for (size_t index : plan->to_call) Check(index < gt.branches.size());
  }

  bool concurrent = data.ConsumeBool();
  if (tcc::PrepareSagaSteps(steps, concurrent, limits).ok()) {
    tcc::GlobalTransaction saga;
    saga.state = tcc::TxState::kRunning;
    saga.mode = tcc::TxMode::kSaga;
    saga.branches = steps;
    // A valid DAG always has a step that can run first.
    Check(!tcc::RunnableSteps(saga).empty());
  }
  return 0;
}
