// Wall-clock time as the store and the run statistics record it.
//
// Threads: any thread.
#pragma once

#include <chrono>

namespace fanout {

// Seconds since the Unix epoch (system_clock, so it can jump when the clock is set): for
// timestamps people read and compare across runs, never for measuring durations.
inline double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace fanout
