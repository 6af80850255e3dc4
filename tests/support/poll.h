// PollUntil: for tests that wait for another process to reach a state (a worker's pages stored, a
// lease expired): polls a condition with a deadline, instead of sleeping a guessed time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace fanout::test {

// Polls `ready` every 50 ms until it holds or `seconds` have passed; whether it held.
inline bool PollUntil(double seconds, const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace fanout::test
