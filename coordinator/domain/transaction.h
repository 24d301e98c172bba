// The global transaction (GT) and its branches as the coordinator's domain
// logic sees them: plain values, free of gRPC and SQL. Not thread-safe; the
// engine guards the copies it keeps.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tcc {

enum class TxState : int {
  kTrying = 1,
  kCommitting = 2,
  kCommitted = 3,
  kRollingBack = 4,
  kRolledBack = 5,
  // Saga mode: steps are running / completed steps are being compensated.
  kRunning = 6,
  kCompensating = 7,
};

// TCC reserves then confirms; a saga runs actions and compensates them.
enum class TxMode : int { kTcc = 0, kSaga = 1 };

enum class BranchState : int {
  kRegistered = 1,  // Try sent or about to be, outcome unknown.
  kTried = 2,
  kTryRefused = 3,
  kConfirmed = 4,
  kCancelled = 5,
};

// The participant-side operation a call performs.
enum class Phase { kTry, kConfirm, kCancel };

bool IsFinal(TxState state);
bool IsValidTxState(int value);
bool IsValidBranchState(int value);
absl::string_view TxStateName(TxState state);
absl::string_view BranchStateName(BranchState state);
absl::string_view PhaseName(Phase phase);

using Headers = std::map<std::string, std::string>;

struct Branch {
  std::string branch_id;
  std::string target;
  std::string action;
  std::string payload;
  Headers headers;
  BranchState state = BranchState::kRegistered;
  uint32_t attempts = 0;
  std::string last_error;
  int64_t next_retry_ms = 0;  // Unix ms; 0 means "due now / not scheduled".
  // Saga steps only: the steps that must complete first, the most attempts
  // of the action on transport errors (0: the coordinator's default), and
  // the call timeout (0: default).
  std::vector<std::string> depends_on;
  uint32_t max_attempts = 0;
  uint32_t timeout_ms = 0;
  // Saga steps only: the action was sent at least once (made durable before
  // it is sent), so its effect may exist and must be compensated. Kept apart
  // from `attempts`, which counts the calls of the current phase only.
  bool action_sent = false;
};

// One entry of a GT's timeline: a state change, a branch outcome, the stuck
// flag, or an operator action.
struct TimelineEvent {
  int64_t at_ms = 0;
  std::string kind;  // "begin", "state", "branch", "back-query", "stuck", "operator".
  std::string detail;
  std::string actor;  // "tccd", or the operator's name.
};

inline constexpr char kCoordinatorActor[] = "tccd";

struct GlobalTransaction {
  std::string gid;
  TxMode mode = TxMode::kTcc;
  TxState state = TxState::kTrying;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  uint32_t timeout_ms = 0;
  int64_t deadline_ms = 0;
  std::string status_endpoint;
  bool stuck = false;
  // Why the GT was decided the way it was ("initiator", "timeout", ...).
  std::string decision_reason;
  // Several coordinators on one database (the PostgreSQL store): the
  // instance that drives the GT ("" when released or with one coordinator)
  // and the epoch of its claim, the fencing token every write is checked
  // against. One-owner stores keep neither.
  std::string owner;
  int64_t epoch = 0;
  // The initiator's W3C traceparent ("" when it sent none): sent on every
  // participant call and back-query, named in log lines (trace_context.h).
  std::string traceparent;
  std::vector<Branch> branches;

  Branch* FindBranch(absl::string_view branch_id);
};

}  // namespace tcc
