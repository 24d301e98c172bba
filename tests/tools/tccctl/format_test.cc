// Durations, times, truncation and gid checks of tools/tccctl/format.h.
#include "tools/tccctl/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util/status_matchers.h"

namespace tcc::tccctl {
namespace {

using ::tcc::testing::StatusIs;

TEST(ParseDurationTest, AcceptsEveryUnitAndCombinations) {
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("90s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDuration("5m"), absl::Minutes(5));
  EXPECT_EQ(*ParseDuration("2h"), absl::Hours(2));
  EXPECT_EQ(*ParseDuration("1d"), absl::Hours(24));
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("0s"), absl::ZeroDuration());
}

TEST(ParseDurationTest, RejectsMalformedInputNamingIt) {
  for (const char* bad : {"", "5", "5x", "-5m", "m", "1.5h", "5 m", "9999999999s", "5M"}) {
    EXPECT_THAT(ParseDuration(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(ParseDuration("5"), StatusIs(absl::StatusCode::kInvalidArgument, "\"5\""));
  EXPECT_THAT(ParseDuration("5"), StatusIs(absl::StatusCode::kInvalidArgument, "needs a unit"));
}

TEST(HumanDurationTest, UsesAtMostTwoUnits) {
  EXPECT_EQ(HumanDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(45)), "45ms");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(12999)), "12s");
  EXPECT_EQ(HumanDuration(absl::Seconds(192)), "3m12s");
  EXPECT_EQ(HumanDuration(absl::Seconds(185)), "3m05s");
  EXPECT_EQ(HumanDuration(absl::Minutes(5)), "5m");
  EXPECT_EQ(HumanDuration(absl::Minutes(62) + absl::Seconds(30)), "1h02m");
  EXPECT_EQ(HumanDuration(absl::Hours(2)), "2h");
  EXPECT_EQ(HumanDuration(absl::Hours(27)), "1d03h");
  EXPECT_EQ(HumanDuration(absl::Seconds(-90)), "-1m30s");
  EXPECT_EQ(HumanMillis(1500), "1s");
}

TEST(FormatTimeTest, LocalIsoLikeWithMilliseconds) {
  int64_t ms = 1714564984123;  // 2024-05-01 12:03:04.123 UTC
  EXPECT_EQ(FormatTime(ms, absl::UTCTimeZone()), "2024-05-01 12:03:04.123");
  EXPECT_EQ(FormatTime(ms, absl::FixedTimeZone(2 * 3600)), "2024-05-01 14:03:04.123");
  EXPECT_EQ(FormatTime(0, absl::UTCTimeZone()), "-");
}

TEST(FormatRelativeTest, PastFutureAndNow) {
  absl::Time now = absl::FromUnixSeconds(1714564984);
  int64_t now_ms = absl::ToUnixMillis(now);
  EXPECT_EQ(FormatRelative(now_ms - 192000, now), "3m12s ago");
  EXPECT_EQ(FormatRelative(now_ms + 2000, now), "in 2s");
  EXPECT_EQ(FormatRelative(now_ms + 300, now), "now");
  EXPECT_EQ(FormatRelative(0, now), "-");
  EXPECT_EQ(FormatTimeWithAge(now_ms - 5000, now, absl::UTCTimeZone()),
            "2024-05-01 12:02:59.000 (5s ago)");
}

TEST(TextTest, OneLineReplacesControlCharacters) { EXPECT_EQ(OneLine("a\nb\tc\rd"), "a b c d"); }

TEST(TextTest, TruncateCountsCodePointsAndMarksTheCut) {
  EXPECT_EQ(Truncate("short", 10), "short");
  EXPECT_EQ(Truncate("0123456789", 10), "0123456789");
  EXPECT_EQ(Truncate("0123456789abc", 10), "0123456...");
  EXPECT_EQ(Truncate("ééééé", 4), "é...");
  EXPECT_EQ(DisplayWidth("ééé"), 3u);
  EXPECT_EQ(Truncate("abcdef", 2), "..");
}

TEST(GidTest, SameRuleAsTheCoordinator) {
  EXPECT_TRUE(IsValidGid("pay-2024.05:01_x"));
  EXPECT_TRUE(IsValidGid(std::string(128, 'a')));
  EXPECT_FALSE(IsValidGid(std::string(129, 'a')));
  EXPECT_FALSE(IsValidGid(""));
  EXPECT_FALSE(IsValidGid("has space"));
  EXPECT_FALSE(IsValidGid("semi;colon"));
}

}  // namespace
}  // namespace tcc::tccctl
