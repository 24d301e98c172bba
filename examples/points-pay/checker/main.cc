// points_pay_check: verifies the invariants of a points-payment run (S1, S2,
// S5; see checks.h) on its databases, opened read-only. Run it after every
// global transaction is final (the launcher does, at the end of a run).
//
//   points_pay_check --data-dir DIR
//   points_pay_check --tccd-db F --points-db F --paylog-db F --orders-db F --seed F
//   points_pay_check --data-dir DIR --tccd-store postgresql://tcc@127.0.0.1:PORT/tcc
//
// Exit code: 0 clean, 1 violations found, 2 a database could not be read.
#include <CLI/CLI.hpp>
#include <iostream>

#include "examples/points-pay/checker/checker.h"

int main(int argc, char** argv) {
  std::string data_dir;
  pointspay::CheckerPaths paths;
  CLI::App app("Checks the invariants of a points-payment run", "points_pay_check");
  app.add_option("--data-dir", data_dir, "the launcher's data directory");
  app.add_option("--tccd-db", paths.tccd_db, "tccd's SQLite file");
  app.add_option("--tccd-store", paths.tccd_store,
                 "tccd's PostgreSQL database (a libpq URI), instead of --tccd-db");
  app.add_option("--points-db", paths.points_db, "points_service's SQLite file");
  app.add_option("--paylog-db", paths.paylog_db, "paylog_service's SQLite file");
  app.add_option("--orders-db", paths.orders_db, "order_service's SQLite file");
  app.add_option("--seed", paths.seed_file, "seed.json written by the launcher");
  CLI11_PARSE(app, argc, argv);
  if (!data_dir.empty()) {
    pointspay::CheckerPaths defaults = pointspay::CheckerPaths::InDataDir(data_dir);
    for (auto [field, fallback] : {std::pair{&paths.tccd_db, defaults.tccd_db},
                                   {&paths.points_db, defaults.points_db},
                                   {&paths.paylog_db, defaults.paylog_db},
                                   {&paths.orders_db, defaults.orders_db},
                                   {&paths.seed_file, defaults.seed_file}}) {
      if (field->empty()) *field = fallback;
    }
  }
  absl::StatusOr<pointspay::CheckReport> report = pointspay::RunChecker(paths);
  if (!report.ok()) {
    std::cerr << "points_pay_check: " << report.status().message() << "\n";
    return 2;
  }
  pointspay::PrintReport(*report, std::cout);
  return report->clean() ? 0 : 1;
}
