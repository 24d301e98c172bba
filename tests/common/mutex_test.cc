#include "tcc/common/mutex.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tcc/common/blocking_counter.h"
#include "tcc/common/notification.h"

namespace tcc {
namespace {

constexpr absl::Duration kShortWait = absl::Milliseconds(100);
// Generous bound for "returned promptly" on a loaded 2-core machine.
constexpr absl::Duration kPrompt = absl::Seconds(10);

// A thread that, after kShortWait, sets `flag` under `mu` (and signals
// `cv`, if given): what a waiter in these tests waits for.
std::thread SetLater(Mutex& mu, bool& flag, CondVar* cv = nullptr) {
  return std::thread([&mu, &flag, cv] {
    absl::SleepFor(kShortWait);
    MutexLock lock(&mu);
    flag = true;
    if (cv != nullptr) cv->Signal();
  });
}

TEST(MutexTest, MutexLockExcludesOtherThreads) {
  Mutex mu;
  int counter = 0;  // guarded by mu; a plain int so TSan would see a race
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock lock(&mu);
        int seen = counter;
        std::this_thread::yield();
        counter = seen + 1;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  MutexLock lock(&mu);
  EXPECT_EQ(counter, 40000);
}

TEST(MutexTest, TryLockFailsWhileAnotherThreadHoldsIt) {
  Mutex mu;
  auto try_lock = [&mu] {
    if (!mu.TryLock()) return false;
    mu.Unlock();
    return true;
  };
  bool got = true;
  mu.Lock();
  std::thread([&] { got = try_lock(); }).join();
  EXPECT_FALSE(got);
  mu.Unlock();
  std::thread([&] { got = try_lock(); }).join();
  EXPECT_TRUE(got);
}

TEST(MutexTest, ReaderMutexLockExcludesWriters) {
  Mutex mu;
  bool writer_done = false;
  std::thread writer;
  {
    ReaderMutexLock reader(&mu);
    writer = std::thread([&] {
      MutexLock lock(&mu);
      writer_done = true;
    });
    absl::SleepFor(kShortWait);
    EXPECT_FALSE(writer_done);
  }
  writer.join();
  EXPECT_TRUE(writer_done);
}

TEST(MutexTest, AssertHeldPassesForTheHolder) {
  Mutex mu;
  MutexLock lock(&mu);
  mu.AssertHeld();
  mu.AssertReaderHeld();
}

TEST(MutexDeathTest, AssertHeldAbortsWhenNotHeld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Mutex mu;
  EXPECT_DEATH(mu.AssertHeld(), "AssertHeld failed");
}

TEST(MutexTest, AwaitReturnsOnceAnotherThreadMakesTheConditionTrue) {
  Mutex mu;
  bool ready = false;
  std::thread setter = SetLater(mu, ready);
  MutexLock lock(&mu);
  mu.Await(Condition(&ready));
  EXPECT_TRUE(ready);
  setter.join();
}

TEST(MutexTest, AwaitTakesAFunctionAndTheArgumentItIsCalledWith) {
  Mutex mu;
  int live = 3;
  std::thread worker([&] {
    for (int i = 0; i < 3; ++i) {
      absl::SleepFor(kShortWait / 3);
      MutexLock lock(&mu);
      --live;
    }
  });
  MutexLock lock(&mu);
  EXPECT_FALSE(mu.AwaitWithTimeout(Condition(
                                       +[](int* n) { return *n == -1; }, &live),
                                   kShortWait / 6));
  mu.Await(Condition(
      +[](int* n) { return *n == 0; }, &live));
  EXPECT_EQ(live, 0);
  worker.join();
}

TEST(MutexTest, AwaitReleasingTheMutexWakesOtherAwaiters) {
  // Each thread changes the state, then awaits the other's change: only the
  // release inside Await can wake the other one.
  Mutex mu;
  int stage = 0;
  auto stage_is = [&](int want) {
    return [&mu, &stage, want] {
      mu.AssertHeld();
      return stage == want;
    };
  };
  std::thread first([&] {
    MutexLock lock(&mu);
    auto one = stage_is(1);
    mu.Await(Condition(&one));
    stage = 2;
    auto three = stage_is(3);
    mu.Await(Condition(&three));
  });
  {
    MutexLock lock(&mu);
    stage = 1;
    auto two = stage_is(2);
    mu.Await(Condition(&two));
    stage = 3;
  }
  first.join();
  MutexLock lock(&mu);
  EXPECT_EQ(stage, 3);
}

// Threads that each await a token under `mu`, take one and leave. Each
// counts how often its condition was false when evaluated on its own
// thread: once before it first sleeps, and once more for every wake-up that
// found nothing (a herd woken for one token).
class TokenConsumers {
 public:
  static constexpr int kCount = 8;

  TokenConsumers() {
    for (int i = 0; i < kCount; ++i) threads_.emplace_back([this, i] { Consume(i); });
    MutexLock lock(&mu);
    auto all_waiting = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return waiting_ == kCount; };
    mu.Await(Condition(&all_waiting));
  }
  ~TokenConsumers() {
    {
      // A token for every consumer still waiting, so that a test that
      // stopped early (a failed ASSERT) does not leave the joins hanging.
      MutexLock lock(&mu);
      tokens_ = kCount - consumed_;
    }
    for (std::thread& t : threads_) t.join();
  }

  // Adds tokens; true once `consumed` tokens have been taken in all.
  bool Give(int tokens, int consumed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    tokens_ += tokens;
    auto taken = [this, consumed]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return consumed_ == consumed; };
    return mu.AwaitWithTimeout(Condition(&taken), kPrompt);
  }
  int own_false(int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return own_false_[i]; }

  Mutex mu;

 private:
  void Consume(int i) {
    const std::thread::id me = std::this_thread::get_id();
    MutexLock lock(&mu);
    auto has_token = [this, i, me]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      bool holds = tokens_ > 0;
      if (!holds && std::this_thread::get_id() == me) ++own_false_[i];
      return holds;
    };
    ++waiting_;
    mu.Await(Condition(&has_token));
    --tokens_;
    ++consumed_;
  }

  int tokens_ ABSL_GUARDED_BY(mu) = 0;
  int waiting_ ABSL_GUARDED_BY(mu) = 0;
  int consumed_ ABSL_GUARDED_BY(mu) = 0;
  std::vector<int> own_false_ ABSL_GUARDED_BY(mu) = std::vector<int>(kCount, 0);
  std::vector<std::thread> threads_;
};

TEST(MutexTest, AReleaseWakesOneOfTheWaitersWhoseConditionHolds) {
  TokenConsumers consumers;
  MutexLock lock(&consumers.mu);
  for (int i = 1; i <= TokenConsumers::kCount; ++i) ASSERT_TRUE(consumers.Give(1, i));
  for (int i = 0; i < TokenConsumers::kCount; ++i) {
    EXPECT_EQ(consumers.own_false(i), 1) << "consumer " << i;
  }
}

TEST(MutexTest, WaitersWokenOneAtATimeAllRunWhenTheirConditionsHold) {
  // Tokens for every waiter in one release: each woken waiter's own release
  // must wake the next.
  TokenConsumers consumers;
  MutexLock lock(&consumers.mu);
  EXPECT_TRUE(consumers.Give(TokenConsumers::kCount, TokenConsumers::kCount));
}

TEST(MutexTest, AReleaseWakesWaitersForDifferentThingsTogether) {
  // Two waiters with different conditions that one release makes true: the
  // releasing thread evaluates both true and wakes both, rather than leaving
  // the second to be woken by the first's release.
  Mutex mu;
  bool go = false;
  int waiting = 0, true_on_releaser = 0;
  const std::thread::id releaser = std::this_thread::get_id();
  auto counted = [&](bool holds) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (holds && std::this_thread::get_id() == releaser) ++true_on_releaser;
    return holds;
  };
  std::thread first([&] {
    MutexLock lock(&mu);
    ++waiting;
    auto go_first = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return counted(go); };
    mu.Await(Condition(&go_first));
  });
  std::thread second([&] {
    MutexLock lock(&mu);
    ++waiting;
    auto go_second = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return counted(go); };
    mu.Await(Condition(&go_second));
  });
  {
    MutexLock lock(&mu);
    auto both_waiting = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return waiting == 2; };
    mu.Await(Condition(&both_waiting));
    go = true;
  }
  first.join();
  second.join();
  MutexLock lock(&mu);
  EXPECT_EQ(true_on_releaser, 2);
}

TEST(MutexTest, AwaitWithTimeoutGivesUpAfterTheTimeout) {
  Mutex mu;
  bool never = false;
  MutexLock lock(&mu);
  absl::Time start = absl::Now();
  EXPECT_FALSE(mu.AwaitWithTimeout(Condition(&never), kShortWait));
  EXPECT_GE(absl::Now() - start, kShortWait);
  mu.AssertHeld();
}

TEST(MutexTest, AwaitWithTimeoutReturnsTrueWhenTheConditionHoldsInTime) {
  Mutex mu;
  bool ready = false;
  std::thread setter = SetLater(mu, ready);
  {
    MutexLock lock(&mu);
    absl::Time start = absl::Now();
    EXPECT_TRUE(mu.AwaitWithTimeout(Condition(&ready), absl::Seconds(60)));
    EXPECT_LT(absl::Now() - start, kPrompt);
  }
  setter.join();
}

TEST(MutexTest, AwaitWithDeadlineInThePastReturnsTheConditionAtOnce) {
  Mutex mu;
  bool flag = false;
  MutexLock lock(&mu);
  EXPECT_FALSE(mu.AwaitWithDeadline(Condition(&flag), absl::Now() - absl::Seconds(1)));
  flag = true;
  EXPECT_TRUE(mu.AwaitWithDeadline(Condition(&flag), absl::Now() - absl::Seconds(1)));
  flag = false;
  absl::Time start = absl::Now();
  EXPECT_FALSE(mu.AwaitWithDeadline(Condition(&flag), start + kShortWait));
  EXPECT_GE(absl::Now() - start, kShortWait);
}

TEST(MutexTest, AwaitWithInfiniteTimeoutStillWakes) {
  Mutex mu;
  bool ready = false;
  std::thread setter = SetLater(mu, ready);
  {
    MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(Condition(&ready), absl::InfiniteDuration()));
  }
  setter.join();
}

TEST(CondVarTest, SignalWakesAWaiter) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread setter = SetLater(mu, ready, &cv);
  {
    MutexLock lock(&mu);
    while (!ready) cv.Wait(&mu);
    mu.AssertHeld();
  }
  setter.join();
}

TEST(CondVarTest, SignalAllWakesEveryWaiter) {
  Mutex mu;
  CondVar cv;
  bool go = false;
  int waiting = 0, done = 0;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      MutexLock lock(&mu);
      ++waiting;
      while (!go) cv.Wait(&mu);
      ++done;
    });
  }
  {
    MutexLock lock(&mu);
    auto all_waiting = [&] { return waiting == 3; };
    mu.Await(Condition(&all_waiting));
    go = true;
  }
  cv.SignalAll();  // signalled without the mutex held, as absl allows
  for (auto& waiter : waiters) waiter.join();
  MutexLock lock(&mu);
  EXPECT_EQ(done, 3);
}

TEST(CondVarTest, WaitWithTimeoutReportsTheTimeout) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  absl::Time start = absl::Now();
  EXPECT_TRUE(cv.WaitWithTimeout(&mu, kShortWait));
  EXPECT_GE(absl::Now() - start, kShortWait);
  mu.AssertHeld();
}

TEST(CondVarTest, WaitWithTimeoutSignalledInTimeIsNotATimeout) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread setter = SetLater(mu, ready, &cv);
  {
    MutexLock lock(&mu);
    bool timed_out = false;
    while (!ready && !timed_out) timed_out = cv.WaitWithTimeout(&mu, absl::Seconds(60));
    EXPECT_FALSE(timed_out);
    EXPECT_TRUE(ready);
  }
  setter.join();
}

TEST(CondVarTest, WaitWithDeadlineReportsTheDeadline) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  absl::Time start = absl::Now();
  EXPECT_TRUE(cv.WaitWithDeadline(&mu, start + kShortWait));
  EXPECT_GE(absl::Now() - start, kShortWait);
  EXPECT_TRUE(cv.WaitWithDeadline(&mu, absl::Now() - absl::Seconds(1)));
}

TEST(CondVarTest, WaitReleasingTheMutexWakesAwaiters) {
  // A CondVar wait releases the mutex like Unlock: an Await whose condition
  // the waiter made true wakes.
  Mutex mu;
  CondVar cv;
  bool flag = false, go = false;
  std::thread awaiter([&] {
    MutexLock lock(&mu);
    mu.Await(Condition(&flag));
    go = true;
    cv.Signal();
  });
  {
    MutexLock lock(&mu);
    flag = true;
    while (!go) cv.Wait(&mu);
  }
  awaiter.join();
}

TEST(NotificationTest, WaitsUntilNotified) {
  Notification notification;
  int payload = 0;  // written before Notify, read after the wait, no lock
  EXPECT_FALSE(notification.HasBeenNotified());
  EXPECT_FALSE(notification.WaitForNotificationWithTimeout(kShortWait));
  std::thread notifier([&] {
    absl::SleepFor(kShortWait);
    payload = 42;
    notification.Notify();
  });
  notification.WaitForNotification();
  EXPECT_EQ(payload, 42);
  EXPECT_TRUE(notification.HasBeenNotified());
  EXPECT_TRUE(notification.WaitForNotificationWithTimeout(absl::ZeroDuration()));
  notifier.join();
}

TEST(BlockingCounterTest, WaitReturnsAfterTheLastDecrement) {
  BlockingCounter counter(3);
  // Written by the workers without a lock, read after Wait: under TSan this
  // checks that Wait orders the reads after the writes.
  int written[3] = {0, 0, 0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&, i] {
      written[i] = i + 1;
      counter.DecrementCount();
    });
  }
  counter.Wait();
  EXPECT_EQ(written[0] + written[1] + written[2], 6);
  for (auto& worker : workers) worker.join();
}

}  // namespace
}  // namespace tcc
