#include "coordinator/domain/trace_context.h"

#include <gtest/gtest.h>

namespace tcc {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, AcceptsTheSpecificationsExample) {
  EXPECT_TRUE(IsValidTraceparent(kValid));
  EXPECT_EQ(AcceptTraceparent(kValid), kValid);
  EXPECT_EQ(TraceIdOf(kValid), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceContext, IgnoresMalformedHeaders) {
  for (const char* bad : {
           "", "garbage",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // No flags.
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // Upper case.
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // Zero trace id.
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // Zero parent id.
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // Forbidden version.
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 has no tail.
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  // Not hex.
       }) {
    EXPECT_FALSE(IsValidTraceparent(bad)) << bad;
    EXPECT_EQ(AcceptTraceparent(bad), "") << bad;
    EXPECT_EQ(TraceIdOf(bad), "") << bad;
  }
}

TEST(TraceContext, AcceptsALaterVersionWithMoreFields) {
  EXPECT_TRUE(IsValidTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
  EXPECT_FALSE(IsValidTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra"));
}

TEST(TraceContext, LogTagNamesTheGidAndTheTraceId) {
  GlobalTransaction gt;
  gt.gid = "order-7";
  EXPECT_EQ(LogTag(gt), "gid=order-7");
  gt.traceparent = kValid;
  EXPECT_EQ(LogTag(gt), "gid=order-7 trace=4bf92f3577b34da6a3ce929d0e0e4736");
}

}  // namespace
}  // namespace tcc
