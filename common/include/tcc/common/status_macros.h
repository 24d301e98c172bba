// TCC_RETURN_IF_ERROR / TCC_ASSIGN_OR_RETURN: Debian's Abseil predates
// absl/status/status_macros.h, so we keep this tiny equivalent. The TCC_
// prefix keeps them from clashing with an SDK user's own macros of the
// common unprefixed names.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TCC_CONCAT_INNER(a, b) a##b
#define TCC_CONCAT(a, b) TCC_CONCAT_INNER(a, b)

#define TCC_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status tcc_status_ = (expr);       \
    if (!tcc_status_.ok()) return tcc_status_; \
  } while (false)

#define TCC_ASSIGN_OR_RETURN(lhs, expr) \
  TCC_ASSIGN_OR_RETURN_IMPL(TCC_CONCAT(tcc_statusor_, __LINE__), lhs, expr)

#define TCC_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return statusor.status();        \
  lhs = std::move(statusor).value()
