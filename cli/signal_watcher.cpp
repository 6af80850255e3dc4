#include "cli/signal_watcher.h"

#include <pthread.h>
#include <unistd.h>

#include <cstring>

namespace fanout::cli {

SignalWatcher::SignalWatcher(CrawlControl& control) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR2);  // the destructor's "stop watching"
  pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
  thread_ = std::thread([this, &control] { Watch(control); });
}

SignalWatcher::~SignalWatcher() {
  done_.store(true);
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void SignalWatcher::Watch(CrawlControl& control) {
  int count = 0;
  while (true) {
    int sig = 0;
    if (sigwait(&set_, &sig) != 0) continue;
    if (sig == SIGUSR2) {
      if (done_.load()) return;
      continue;
    }
    if (++count == 1) {
      first_signal_.store(sig);
      const char msg[] = "\nfanout crawl: stopping: in-flight transfers may finish (Ctrl-C again to cut them)\n";
      (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
      control.Stop();
    } else {
      const char msg[] = "fanout crawl: cutting the transfers in flight\n";
      (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
      control.Abort();
    }
  }
}

}  // namespace fanout::cli
