#include "tests/participant-sdk/points_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tcc/common/status_macros.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

struct Points {
  std::string user;
  int64_t amount = 0;
};

absl::StatusOr<Points> Parse(const BranchRequest& request) {
  std::pair<std::string, std::string> parts = absl::StrSplit(request.payload(), ':');
  Points p{parts.first, 0};
  if (!absl::SimpleAtoi(parts.second, &p.amount)) {
    return absl::InvalidArgumentError(absl::StrCat("bad payload ", request.payload()));
  }
  return p;
}

}  // namespace

absl::Status PointsService::Setup(Database& db, const std::string& user, int64_t balance) {
  return db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS accounts (user TEXT PRIMARY KEY,"
                                " balance INTEGER NOT NULL, frozen INTEGER NOT NULL)")
                            .status());
    return tx.Exec("INSERT INTO accounts VALUES (?, ?, 0)", {user, balance}).status();
  });
}

ActionHandlers PointsService::Handlers() {
  return {
      .on_try =
          [this](LocalTx& tx, const BranchRequest& r) {
            NoteTrace("try", r);
            return Freeze(tx, r);
          },
      .on_confirm =
          [this](LocalTx& tx, const BranchRequest& r) {
            NoteTrace("confirm", r);
            return Deduct(tx, r);
          },
      .on_cancel =
          [this](LocalTx& tx, const BranchRequest& r) {
            NoteTrace("cancel", r);
            return Unfreeze(tx, r);
          },
  };
}

void PointsService::NoteTrace(const char* phase, const BranchRequest& request) {
  auto trace = request.headers().find(kTraceparentHeader);
  if (trace == request.headers().end()) return;
  tcc::MutexLock lock(&mu_);
  traced_runs_.push_back(absl::StrCat(phase, " ", request.gid(), " ", trace->second));
}

std::vector<std::string> PointsService::traced_runs() const {
  tcc::MutexLock lock(&mu_);
  return traced_runs_;
}

BranchRequest PointsService::Request(const std::string& gid, const std::string& branch,
                                     const std::string& user, int64_t points) {
  BranchRequest r;
  r.set_gid(gid);
  r.set_branch_id(branch);
  r.set_action("points.freeze");
  r.set_payload(absl::StrCat(user, ":", points));
  return r;
}

TryResult PointsService::Freeze(LocalTx& tx, const BranchRequest& request) {
  ++try_runs;
  TCC_ASSIGN_OR_RETURN(Points p, Parse(request));
  TCC_ASSIGN_OR_RETURN(int64_t changed, tx.Exec("UPDATE accounts SET frozen = frozen + ?2"
                                                " WHERE user = ?1 AND balance - frozen >= ?2",
                                                {p.user, p.amount}));
  if (fail_try) return absl::UnavailableError("injected try failure");
  if (changed == 0) return TryOutcome::Refused(absl::StrCat("not enough points for ", p.user));
  return TryOutcome::Reserved();
}

absl::Status PointsService::Deduct(LocalTx& tx, const BranchRequest& request) {
  ++confirm_runs;
  TCC_ASSIGN_OR_RETURN(Points p, Parse(request));
  TCC_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET balance = balance - ?2, frozen = frozen - ?2"
                              " WHERE user = ?1",
                              {p.user, p.amount})
                          .status());
  if (fail_confirm) return absl::UnavailableError("injected confirm failure");
  return absl::OkStatus();
}

absl::Status PointsService::Unfreeze(LocalTx& tx, const BranchRequest& request) {
  ++cancel_runs;
  TCC_ASSIGN_OR_RETURN(Points p, Parse(request));
  TCC_RETURN_IF_ERROR(
      tx.Exec("UPDATE accounts SET frozen = frozen - ?2 WHERE user = ?1", {p.user, p.amount})
          .status());
  if (fail_cancel) return absl::UnavailableError("injected cancel failure");
  return absl::OkStatus();
}

int64_t Balance(Database& db, const std::string& user) {
  return QueryInt(db, absl::StrCat("SELECT balance FROM accounts WHERE user = '", user, "'"));
}

int64_t Frozen(Database& db, const std::string& user) {
  return QueryInt(db, absl::StrCat("SELECT frozen FROM accounts WHERE user = '", user, "'"));
}

int64_t BarrierRows(Database& db) { return QueryInt(db, "SELECT COUNT(*) FROM tcc_barrier"); }

}  // namespace tcc::sdk::testing
