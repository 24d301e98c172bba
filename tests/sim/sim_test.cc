// The simulator itself under test: one seed gives one schedule (in this
// process and across two runs of the tcc_sim binary), and a guarantee
// switched off on purpose in a simulated component is caught by the
// checker within a bounded number of seeds.
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/sim/sim_world.h"
#include "tests/test_util/command.h"

namespace tcc::sim {
namespace {

using ::tcc::testing::RunCommandForTest;

class SimTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
};

TEST_F(SimTest, SameSeedGivesTheSameSchedule) {
  SimReport first = RunSimulation({.seed = 7, .keep_trace = true});
  SimReport second = RunSimulation({.seed = 7, .keep_trace = true});
  EXPECT_GT(first.trace.size(), 50u);
  EXPECT_EQ(first.trace, second.trace);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_TRUE(first.violations.empty()) << first.violations.front();
}

TEST_F(SimTest, DifferentSeedsGiveDifferentSchedules) {
  EXPECT_NE(RunSimulation({.seed = 7}).trace_hash, RunSimulation({.seed = 8}).trace_hash);
}

TEST_F(SimTest, ReplayingASeedWithTheBinaryPrintsTheSameTrace) {
  auto first = RunCommandForTest({TCC_SIM_PATH, "--seed", "11", "--trace"});
  auto second = RunCommandForTest({TCC_SIM_PATH, "--seed", "11", "--trace"});
  EXPECT_EQ(first.exit_code(), 0) << first.output;
  EXPECT_TRUE(absl::StrContains(first.output, "seed 11: ")) << first.output;
  EXPECT_TRUE(absl::StrContains(first.output, "deliver Try")) << first.output;
  EXPECT_EQ(first.output, second.output);
}

TEST_F(SimTest, BadFlagsAreRefusedWithUsage) {
  auto none = RunCommandForTest({TCC_SIM_PATH});
  EXPECT_EQ(none.exit_code(), 2);
  EXPECT_TRUE(absl::StrContains(none.output, "give --seed S")) << none.output;
  auto plant = RunCommandForTest({TCC_SIM_PATH, "--seed", "1", "--plant", "nonsense"});
  EXPECT_EQ(plant.exit_code(), 2);
  EXPECT_TRUE(absl::StrContains(plant.output, "unfenced_status or naive_cancel")) << plant.output;
}

// The first seed in 1..limit whose run with `plants` breaks `invariant`.
std::optional<uint64_t> FirstViolatingSeed(Plants plants, const std::string& invariant,
                                           uint64_t limit) {
  for (uint64_t seed = 1; seed <= limit; ++seed) {
    SimReport report = RunSimulation({.seed = seed, .plants = plants});
    for (const std::string& violation : report.violations) {
      if (absl::StartsWith(violation, invariant)) {
        std::printf("planted bug found by seed %llu: %s\n", static_cast<unsigned long long>(seed),
                    violation.c_str());
        return seed;
      }
    }
  }
  return std::nullopt;
}

void ExpectFoundAndCleanWithoutThePlant(Plants plants, const std::string& invariant) {
  std::optional<uint64_t> seed = FirstViolatingSeed(plants, invariant, 1000);
  ASSERT_TRUE(seed.has_value()) << "no seed in 1..1000 broke " << invariant;
  SimReport clean = RunSimulation({.seed = *seed});
  EXPECT_TRUE(clean.violations.empty())
      << "seed " << *seed << " fails without the plant too: " << clean.violations.front();
}

// Found by tcc_sim (seed 54820 with --write_faults --commit_faults): a
// retried Try with begin found b1 TRIED in memory, its results' write
// queued but not durable, and answered at once; the write was then lost,
// the initiator committed locally and Commit was refused (b1 REGISTERED).
// Such an answer now waits for that write.
TEST_F(SimTest, ATryAnsweredFromMemoryWaitsForTheWritesBeforeIt) {
  SimReport run = RunSimulation({.seed = 54820, .write_faults = true, .commit_faults = true});
  EXPECT_TRUE(run.violations.empty()) << run.violations.front();
}

// Found by tcc_sim (seed 138736 with --write_faults --commit_faults
// --sagas): a duplicate Try found b2 REGISTERED in memory, its
// registration queued by the first copy of the request and not durable yet,
// and sent b2's Try at once; the registration was then lost, and b2 was held
// at its participant for a branch the store never knew. A Try with nothing
// to register now waits for the writes queued before it.
TEST_F(SimTest, ATryCallWaitsForItsBranchesRegistration) {
  SimReport run =
      RunSimulation({.seed = 138736, .write_faults = true, .commit_faults = true, .sagas = true});
  EXPECT_TRUE(run.violations.empty()) << run.violations.front();
}

TEST_F(SimTest, FindsAStatusEndpointWithoutTheFence) {
  ExpectFoundAndCleanWithoutThePlant({.unfenced_status = true}, "local-commit-mismatch");
}

TEST_F(SimTest, FindsABarrierWithoutEmptyCompensation) {
  ExpectFoundAndCleanWithoutThePlant({.naive_cancel = true}, "hanging-reservation");
}

}  // namespace
}  // namespace tcc::sim
