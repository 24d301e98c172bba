#include "common/metrics/text_format.h"

#include <gtest/gtest.h>

#include <limits>

namespace tcc::metrics {
namespace {

TEST(TextFormatTest, EscapesLabelValuesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue(R"(C:\dir)"), R"(C:\\dir)");
  EXPECT_EQ(EscapeLabelValue(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), R"(two\nlines)");
}

TEST(TextFormatTest, FindsASamplesValueByItsNameAndLabels) {
  const std::string page =
      "tcc_up 1\n"
      "# HELP tcc_batch_size Operations per batch.\n"
      "tcc_batch_size_sum 12345\n"
      "tcc_batch_size_sum_extra 7\n"
      "tcc_rpc_total{method=\"Try\"} 2.5e+06\n"
      "tcc_bad 12x\n"
      "tcc_inf +Inf";
  EXPECT_EQ(FindSample(page, "tcc_up"), 1) << "the first line";
  EXPECT_EQ(FindSample(page, "tcc_batch_size_sum"), 12345) << "not the longer name";
  EXPECT_EQ(FindSample(page, R"(tcc_rpc_total{method="Try"})"), 2.5e6);
  EXPECT_EQ(FindSample(page, "tcc_inf"), std::numeric_limits<double>::infinity()) << "the last";
  EXPECT_EQ(FindSample(page, "tcc_batch_size"), std::nullopt) << "a HELP line is no sample";
  EXPECT_EQ(FindSample(page, "tcc_rpc_total"), std::nullopt) << "labels are part of the series";
  EXPECT_EQ(FindSample(page, "tcc_missing"), std::nullopt);
  EXPECT_EQ(FindSample(page, "tcc_bad"), std::nullopt) << "not a number";
}

TEST(TextFormatTest, EscapesHelpBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" \\ word\nand more"), R"(a "quoted" \\ word\nand more)");
}

TEST(TextFormatTest, FormatsValuesInTheirShortestForm) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(-1.5), "-1.5");
  // Go's 'g' rule: exponent form below 1e-4 and from 1e6 up.
  EXPECT_EQ(FormatValue(0.0005), "0.0005");
  EXPECT_EQ(FormatValue(0.0001), "0.0001");
  EXPECT_EQ(FormatValue(0.00001), "1e-05");
  EXPECT_EQ(FormatValue(123456), "123456");
  EXPECT_EQ(FormatValue(1e6), "1e+06");
  EXPECT_EQ(FormatValue(1234567.5), "1.2345675e+06");
  EXPECT_EQ(FormatValue(7.515), "7.515");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(TextFormatTest, FormatsLabelSets) {
  EXPECT_EQ(FormatLabels({}, {}), "");
  EXPECT_EQ(FormatLabels({"mode", "outcome"}, {"tcc", "a\"b"}), R"({mode="tcc",outcome="a\"b"})");
}

TEST(TextFormatTest, ValidatesNames) {
  EXPECT_TRUE(IsValidMetricName("tcc_rpc_requests_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("tcc-rpc"));
  EXPECT_TRUE(IsValidLabelName("method"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("__reserved"));
  EXPECT_FALSE(IsValidLabelName("9x"));
}

}  // namespace
}  // namespace tcc::metrics
