// The rendered scrape, checked character for character against the text
// format 0.0.4.
#include "common/metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tcc::metrics {
namespace {

TEST(RegistryTest, RendersCountersWithHelpTypeAndSortedLabelSets) {
  Registry registry;
  auto& calls = registry.AddCounter("tcc_calls_total", "Calls made.", {"phase", "outcome"});
  calls.WithLabels({"try", "ok"}).Increment();
  calls.WithLabels({"confirm", "ok"}).Increment(2);
  calls.WithLabels({"try", "ok"}).Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP tcc_calls_total Calls made.\n"
            "# TYPE tcc_calls_total counter\n"
            "tcc_calls_total{phase=\"confirm\",outcome=\"ok\"} 2\n"
            "tcc_calls_total{phase=\"try\",outcome=\"ok\"} 2\n");
}

TEST(RegistryTest, RendersAFamilyWithoutLabelsAndLargeCountsInFull) {
  Registry registry;
  registry.AddCounter("big_total", "Many.").Get().Increment(12345678901234);
  registry.AddGauge("temperature", "Degrees.").Get().Set(-2.5);
  EXPECT_EQ(registry.Render(),
            "# HELP big_total Many.\n"
            "# TYPE big_total counter\n"
            "big_total 12345678901234\n"
            "# HELP temperature Degrees.\n"
            "# TYPE temperature gauge\n"
            "temperature -2.5\n");
}

TEST(RegistryTest, SkipsFamiliesWithoutSamples) {
  Registry registry;
  registry.AddCounter("unused_total", "Never touched.", {"kind"});
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, EscapesHelpAndLabelValues) {
  Registry registry;
  registry.AddGauge("odd", "Help with \\ and\nnewline \"kept\".", {"path"})
      .WithLabels({"C:\\x \"y\"\nz"})
      .Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP odd Help with \\\\ and\\nnewline \"kept\".\n"
            "# TYPE odd gauge\n"
            "odd{path=\"C:\\\\x \\\"y\\\"\\nz\"} 1\n");
}

TEST(RegistryTest, RendersHistogramsAsCumulativeBucketsWithSumAndCount) {
  Registry registry;
  auto& latency = registry.AddHistogram("rpc_seconds", "Latency.", {"method"}, {0.01, 0.1, 1});
  Histogram& begin = latency.WithLabels({"Begin"});
  begin.Observe(0.005);
  begin.Observe(0.01);  // On the bound: counts in le="0.01".
  begin.Observe(0.5);
  begin.Observe(7);  // Only in +Inf.
  EXPECT_EQ(registry.Render(),
            "# HELP rpc_seconds Latency.\n"
            "# TYPE rpc_seconds histogram\n"
            "rpc_seconds_bucket{method=\"Begin\",le=\"0.01\"} 2\n"
            "rpc_seconds_bucket{method=\"Begin\",le=\"0.1\"} 2\n"
            "rpc_seconds_bucket{method=\"Begin\",le=\"1\"} 3\n"
            "rpc_seconds_bucket{method=\"Begin\",le=\"+Inf\"} 4\n"
            "rpc_seconds_sum{method=\"Begin\"} 7.515\n"
            "rpc_seconds_count{method=\"Begin\"} 4\n");
}

TEST(RegistryTest, RendersAnUnlabeledHistogramWithOnlyTheLeLabel) {
  Registry registry;
  registry.AddHistogram("batch_size", "Operations per batch.", {}, {1, 8}).Get().Observe(3);
  EXPECT_EQ(registry.Render(),
            "# HELP batch_size Operations per batch.\n"
            "# TYPE batch_size histogram\n"
            "batch_size_bucket{le=\"1\"} 0\n"
            "batch_size_bucket{le=\"8\"} 1\n"
            "batch_size_bucket{le=\"+Inf\"} 1\n"
            "batch_size_sum 3\n"
            "batch_size_count 1\n");
}

TEST(RegistryTest, CallbackGaugesAreComputedAtEveryScrape) {
  Registry registry;
  double unfinished = 3;
  registry.AddCallbackGauge("unfinished", "By state.", {"state"}, [&] {
    return CallbackGaugeFamily::Samples{{{"trying"}, unfinished}, {{"committing"}, 1}};
  });
  EXPECT_EQ(registry.Render(),
            "# HELP unfinished By state.\n"
            "# TYPE unfinished gauge\n"
            "unfinished{state=\"committing\"} 1\n"
            "unfinished{state=\"trying\"} 3\n");
  unfinished = 0;
  EXPECT_NE(registry.Render().find("unfinished{state=\"trying\"} 0\n"), std::string::npos);
}

TEST(RegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  auto& counter = registry.AddCounter("hits_total", "Hits.", {"thread"});
  auto& histogram = registry.AddHistogram("values", "Values.", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.WithLabels({"any"}).Increment();
        histogram.Get().Observe(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.WithLabels({"any"}).value(), 40000u);
  Histogram::Snapshot snapshot = histogram.Get().Read();
  EXPECT_EQ(snapshot.count, 40000u);
  EXPECT_EQ(snapshot.sum, 40000.0);
  EXPECT_EQ(snapshot.cumulative, (std::vector<uint64_t>{0, 40000}));
}

TEST(RegistryDeathTest, RefusesANameRegisteredTwice) {
  Registry registry;
  registry.AddCounter("twice_total", "Once.");
  EXPECT_DEATH(registry.AddGauge("twice_total", "Again."), "registered twice");
}

TEST(RegistryDeathTest, RefusesUnsortedBucketsAndAWrongLabelCount) {
  Registry registry;
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {}, {1, 1}), "must increase");
  auto& family = registry.AddCounter("c_total", "C.", {"a"});
  EXPECT_DEATH(family.WithLabels({"x", "y"}), "1 label names");
}

}  // namespace
}  // namespace tcc::metrics
