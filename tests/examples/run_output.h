// What the points-payment tests read in the launcher's output: the
// checker's verdict and the counts on its summary lines.
//
// Thread-safety: free functions.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace pointspay::testing {

// The checker found every invariant holding, no payment failed and every
// GT ended final.
inline ::testing::AssertionResult RanClean(const std::string& output) {
  for (const char* expected : {"CLEAN, every invariant holds", "errors              0"}) {
    if (!absl::StrContains(output, expected)) {
      return ::testing::AssertionFailure() << "no \"" << expected << "\" in:\n" << output;
    }
  }
  if (absl::StrContains(output, "NOT FINAL")) {
    return ::testing::AssertionFailure() << "a GT is NOT FINAL in:\n" << output;
  }
  return ::testing::AssertionSuccess();
}

// The sum of the counts `key=N` whose key starts with `name` on the summary
// line starting with `label` ("chaos kills 2 kill -9, each restarted:
// tccd1=1 tccd3=1": label "chaos kills", name "tccd" -> 2).
inline int CountOnLine(const std::string& output, absl::string_view label, absl::string_view name) {
  int total = 0;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), label)) continue;
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(word, absl::MaxSplits('=', 1));
      int count = 0;
      if (absl::StartsWith(kv.first, name) && absl::SimpleAtoi(kv.second, &count)) total += count;
    }
  }
  return total;
}

}  // namespace pointspay::testing
