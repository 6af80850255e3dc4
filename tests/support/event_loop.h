// MakeLoop: an EventLoop for one test, failing the test if it cannot be created.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "crawler/event_loop.h"

namespace fanout::test {

inline std::unique_ptr<EventLoop> MakeLoop() {
  Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status().ToString();
  return loop.ok() ? std::move(loop.value()) : nullptr;
}

}  // namespace fanout::test
