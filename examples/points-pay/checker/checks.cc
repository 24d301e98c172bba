#include "examples/points-pay/checker/checks.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/points-pay/common/schema.h"

namespace pointspay {
namespace {

// What the four databases say about one order.
struct OrderFacts {
  std::vector<const LedgerRecord*> pays;
  std::vector<const LedgerRecord*> refunds;
  std::vector<const LogRecord*> pay_log;     // PENDING or FINAL rows
  std::vector<const LogRecord*> refund_log;  // PENDING or FINAL rows
};

class Checker {
 public:
  explicit Checker(const Snapshot& s) : s_(s) { Index(); }

  std::vector<Violation> Run() {
    CheckFinal();
    for (const OrderRecord& o : s_.orders) CheckOrder(o);
    CheckStrayRows();
    CheckTransactions();
    CheckAccounts();
    return std::move(violations_);
  }

 private:
  void Add(const std::string& order, const std::string& gid, std::string what) {
    violations_.push_back({order, gid, std::move(what)});
  }

  void Index() {
    for (const OrderRecord& o : s_.orders) orders_[o.order_no] = &o;
    for (const LedgerRecord& l : s_.ledger) {
      (l.op_type == kOpPay ? facts_[l.order_no].pays : facts_[l.order_no].refunds).push_back(&l);
      ledger_gids_.insert(l.gid);
    }
    for (const LogRecord& r : s_.pay_log) {
      if (r.status == kVoid) continue;
      facts_[r.order_no].pay_log.push_back(&r);
      live_log_gids_[r.gid] = "pay_log";
    }
    for (const LogRecord& r : s_.refund_log) {
      if (r.status == kVoid) continue;
      facts_[r.order_no].refund_log.push_back(&r);
      live_log_gids_[r.gid] = "refund_log";
    }
  }

  int GtState(const std::string& gid) const {
    auto it = s_.gt_states.find(gid);
    return it == s_.gt_states.end() ? 0 : it->second;
  }

  void CheckFinal() {
    for (const auto& [gid, state] : s_.gt_states) {
      if (state != kGtCommitted && state != kGtRolledBack) {
        Add("", gid, absl::StrCat("global transaction is not final (state ", state, ")"));
      }
    }
  }

  // One ledger row of `op` under `gid` for the order's user and amount.
  void ExpectLedger(const OrderRecord& o, const std::vector<const LedgerRecord*>& rows,
                    const std::string& gid, const char* op) {
    if (rows.size() != 1) {
      Add(o.order_no, gid,
          absl::StrCat("order is ", o.status, " but has ", rows.size(), " '", op,
                       "' ledger rows (want exactly 1)"));
      return;
    }
    const LedgerRecord& l = *rows[0];
    if (l.gid != gid || l.user != o.user || l.amount != o.amount) {
      Add(o.order_no, gid,
          absl::StrCat("'", op, "' ledger row is ", l.user, "/", l.amount, " by ", l.gid,
                       ", order says ", o.user, "/", o.amount, " by ", gid));
    }
  }

  void ExpectFinalLog(const OrderRecord& o, const std::vector<const LogRecord*>& rows,
                      const std::string& gid, const char* table) {
    if (rows.size() != 1 || rows[0]->status != kFinal || rows[0]->gid != gid) {
      Add(o.order_no, gid,
          absl::StrCat("order is ", o.status, " but ", table, " has ", rows.size(), " live row(s)",
                       rows.empty() ? "" : " (first: " + rows[0]->gid + " " + rows[0]->status + ")",
                       "; want one FINAL row of this gid"));
    }
  }

  void ExpectNone(const OrderRecord& o, size_t count, const std::string& gid,
                  const std::string& what) {
    if (count != 0) Add(o.order_no, gid, absl::StrCat("order is ", o.status, " but ", what));
  }

  void ExpectCommitted(const OrderRecord& o, const std::string& gid) {
    if (GtState(gid) != kGtCommitted) {
      Add(o.order_no, gid,
          absl::StrCat("order is ", o.status, " but its transaction is in state ", GtState(gid),
                       ", not COMMITTED"));
    }
  }

  void CheckOrder(const OrderRecord& o) {
    const OrderFacts& f = facts_[o.order_no];
    if (o.status == kUnpaid) {
      ExpectNone(o, f.pays.size(), f.pays.empty() ? "" : f.pays[0]->gid, "points were deducted");
      ExpectNone(o, f.refunds.size(), "", "points were refunded");
      ExpectNone(o, f.pay_log.size(), f.pay_log.empty() ? "" : f.pay_log[0]->gid,
                 "a live pay_log row exists");
      ExpectNone(o, f.refund_log.size(), "", "a live refund_log row exists");
      return;
    }
    if (o.status != kPaid && o.status != kRefunded) {
      Add(o.order_no, o.pay_gid, absl::StrCat("unknown order status ", o.status));
      return;
    }
    ExpectLedger(o, f.pays, o.pay_gid, kOpPay);
    ExpectFinalLog(o, f.pay_log, o.pay_gid, "pay_log");
    ExpectCommitted(o, o.pay_gid);
    if (o.status == kPaid) {
      ExpectNone(o, f.refunds.size(), o.pay_gid, "points were refunded");
      ExpectNone(o, f.refund_log.size(), o.pay_gid, "a live refund_log row exists");
      return;
    }
    ExpectLedger(o, f.refunds, o.refund_gid, kOpRefund);
    ExpectFinalLog(o, f.refund_log, o.refund_gid, "refund_log");
    ExpectCommitted(o, o.refund_gid);
  }

  // Rows about orders that do not exist, and rows left open.
  void CheckStrayRows() {
    for (const auto& [order, facts] : facts_) {
      if (orders_.count(order) == 0 &&
          facts.pays.size() + facts.refunds.size() + facts.pay_log.size() > 0) {
        Add(order, "", "rows in the ledger or pay log for an order that does not exist");
      }
    }
    // A refund saga's step writes its row FINAL at once (VOID if undone).
    for (const LogRecord& r : s_.refund_log) {
      if (r.status != kFinal && r.status != kVoid) {
        Add(r.order_no, r.gid, absl::StrCat("refund_log row is ", r.status, ", not FINAL or VOID"));
      }
    }
  }

  // A committed GT is the one its order names; a rolled-back one left nothing.
  void CheckTransactions() {
    std::set<std::string> named;
    for (const OrderRecord& o : s_.orders) {
      named.insert(o.pay_gid);
      named.insert(o.refund_gid);
    }
    for (const auto& [gid, state] : s_.gt_states) {
      if (state == kGtCommitted && named.count(gid) == 0) {
        Add("", gid, "transaction COMMITTED but no order names it");
      }
      if (state != kGtRolledBack) continue;
      if (ledger_gids_.count(gid) > 0) Add("", gid, "rolled back, yet wrote the ledger");
      if (named.count(gid) > 0) Add("", gid, "rolled back, yet an order names it");
      auto log = live_log_gids_.find(gid);
      if (log != live_log_gids_.end()) {
        Add("", gid, absl::StrCat("rolled back, yet its ", log->second, " row is live"));
      }
      auto d = s_.decisions.find(gid);
      if (d != s_.decisions.end() && d->second == "committed") {
        Add("", gid, "rolled back, yet the order service committed it locally");
      }
    }
  }

  void CheckAccounts() {
    int64_t total = 0;
    for (const AccountRecord& a : s_.accounts) {
      total += a.balance;
      if (a.frozen != 0) {
        Add("", "", absl::StrCat("user ", a.user, " has ", a.frozen, " points left frozen"));
      }
    }
    int64_t deducted = 0;
    int64_t refunded = 0;
    for (const LedgerRecord& l : s_.ledger) (l.op_type == kOpPay ? deducted : refunded) += l.amount;
    if (total + deducted - refunded != s_.initial_total) {
      Add("", "",
          absl::StrCat("points not conserved: balances ", total, " + deducted ", deducted,
                       " - refunded ", refunded, " = ", total + deducted - refunded,
                       ", initial total ", s_.initial_total));
    }
    if (!s_.initial_balances.empty()) CheckEachBalance();
  }

  // balance == seed - paid + refunded, user by user: a refund credited to
  // the wrong user, or taken back twice, nets out in the sum but not here.
  void CheckEachBalance() {
    std::map<std::string, int64_t> expected = s_.initial_balances;
    for (const LedgerRecord& l : s_.ledger) {
      expected[l.user] += l.op_type == kOpPay ? -l.amount : l.amount;
    }
    for (const AccountRecord& a : s_.accounts) {
      auto it = expected.find(a.user);
      int64_t want = it == expected.end() ? 0 : it->second;
      if (a.balance != want) {
        Add("", "",
            absl::StrCat("user ", a.user, " has a balance of ", a.balance,
                         "; seed - paid + refunded says ", want));
      }
    }
  }

  const Snapshot& s_;
  std::map<std::string, const OrderRecord*> orders_;
  std::map<std::string, OrderFacts> facts_;
  std::set<std::string> ledger_gids_;
  std::map<std::string, std::string> live_log_gids_;  // gid -> table of its live row
  std::vector<Violation> violations_;
};

}  // namespace

std::vector<Violation> CheckInvariants(const Snapshot& snapshot) { return Checker(snapshot).Run(); }

}  // namespace pointspay
