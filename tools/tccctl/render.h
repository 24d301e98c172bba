// Human output of tccctl: the tables and fields of list, show and stats.
// Everything that depends on the terminal (colour, width) or on the clock is
// in Output, so rendering is deterministic in tests. Thread-compatible.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tcc/v1/admin.pb.h"

namespace tcc::tccctl {

// Where and how a command writes.
struct Output {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool json = false;
  // ANSI colour (stdout is a terminal and NO_COLOR is unset).
  bool color = false;
  // Terminal width for cutting long cells; 0: unknown (cells are cut at
  // kDefaultCellWidth instead).
  size_t width = 0;
  absl::Time now;
  absl::TimeZone zone;
};

inline constexpr size_t kDefaultCellWidth = 60;

// The list table: GID, STATE, AGE, STUCK, BRANCHES (or STEPS), LAST ERROR.
void RenderList(const std::vector<v1::Transaction>& transactions, const Output& output);

// show: the header fields, the branch table (for a saga, the step table
// with each step's dependencies), the timeline and, for a transaction that
// needs attention, the commands to try next.
void RenderDetail(const v1::TransactionDetail& detail, const Output& output);

// stats: counts per state, stuck, oldest unfinished age, failing targets.
void RenderStats(const v1::StatsReply& stats, const Output& output);

}  // namespace tcc::tccctl
