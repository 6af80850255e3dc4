// ThreadCpuSeconds: the CPU time the calling thread has used so far, in seconds: what a piece of
// work costs, not how long it waited for a core. A system call (CLOCK_THREAD_CPUTIME_ID has no
// vDSO path), so measure pieces of work, not every step.
//
// Threads: any; it reads the calling thread's clock.
#pragma once

#include <time.h>

namespace fanout {

inline double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace fanout
