// coupon: the walkthrough's second C++ participant (README "Integrate your
// own service"). Action "coupon.redeem", payload the coupon code: Try marks
// an unused coupon HELD (refused when it is used or unknown), Confirm marks
// it USED, Cancel makes it NEW again.
//
//   coupon DB_FILE LISTEN_ADDRESS      e.g. coupon coupon.db 127.0.0.1:7002
#include <iostream>
#include <memory>
#include <string>

#include "tcc/common/status_macros.h"
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/serve.h"

using tcc::sdk::BranchRequest;
using tcc::sdk::LocalTx;
using tcc::sdk::TryOutcome;

// Moves the coupon in the payload from state `from` to `to`: rows changed.
absl::StatusOr<int64_t> Move(LocalTx& tx, const BranchRequest& r, const char* from,
                             const char* to) {
  return tx.Exec("UPDATE coupons SET state = ? WHERE code = ? AND state = ?",
                 {to, r.payload(), from});
}

// [snippet coupon]
tcc::sdk::ActionHandlers Redeem() {
  return {.on_try = [](LocalTx& tx, const BranchRequest& r) -> tcc::sdk::TryResult {
            TCC_ASSIGN_OR_RETURN(int64_t changed, Move(tx, r, "NEW", "HELD"));
            if (changed == 0) return TryOutcome::Refused("coupon " + r.payload() + " is not valid");
            return TryOutcome::Reserved();
          },
          .on_confirm = [](LocalTx& tx, const BranchRequest& r) -> absl::Status {
            return Move(tx, r, "HELD", "USED").status();
          },
          .on_cancel = [](LocalTx& tx, const BranchRequest& r) -> absl::Status {
            return Move(tx, r, "HELD", "NEW").status();
          }};
}
// [end snippet]

absl::Status Serve(const std::string& db_file, const std::string& listen) {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(db_file));
  TCC_RETURN_IF_ERROR(db->RunInTransaction([](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(
        tx.Exec("CREATE TABLE IF NOT EXISTS coupons (code TEXT PRIMARY KEY, state TEXT NOT NULL)")
            .status());
    return tx.Exec("INSERT INTO coupons VALUES ('WELCOME', 'NEW') ON CONFLICT DO NOTHING").status();
  }));
  tcc::sdk::ParticipantServer server(db);
  TCC_RETURN_IF_ERROR(server.AddAction("coupon.redeem", Redeem()));
  TCC_RETURN_IF_ERROR(server.Start(listen));
  std::cout << "coupon listening on " << listen << std::endl;
  tcc::sdk::ServeUntilSignal(server);
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: coupon DB_FILE LISTEN_ADDRESS" << std::endl;
    return 2;
  }
  absl::Status status = Serve(argv[1], argv[2]);
  if (!status.ok()) std::cerr << "coupon: " << status << std::endl;
  return status.ok() ? 0 : 1;
}
