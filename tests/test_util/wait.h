// Polls a condition until it holds or a deadline passes: for waiting on
// background work (retries, recovery) without fixed sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace tcc::testing {

inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace tcc::testing
