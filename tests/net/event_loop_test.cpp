#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <thread>

using conclave::net::EventLoop;
using namespace std::chrono_literals;

TEST(EventLoop, TimersRunInOrderAndCanBeCancelled) {
  EventLoop loop;
  std::vector<int> order;
  auto start = std::chrono::steady_clock::now();
  loop.setTimer(start + 20ms, [&] { order.push_back(2); });
  loop.setTimer(start + 5ms, [&] { order.push_back(1); });
  auto cancelled = loop.setTimer(start + 10ms, [&] { order.push_back(99); });
  loop.cancelTimer(cancelled);
  loop.setTimer(start + 30ms, [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST(EventLoop, TasksPostedFromOtherThreadsRunOnTheLoop) {
  EventLoop loop;
  std::thread::id loopThread;
  int ran = 0;
  std::thread runner([&] {
    loopThread = std::this_thread::get_id();
    loop.run();
  });
  for (int i = 0; i < 100; ++i)
    loop.post([&] {
      EXPECT_EQ(std::this_thread::get_id(), loopThread);
      ++ran;
    });
  loop.post([&] { loop.stop(); });
  runner.join();
  EXPECT_EQ(ran, 100);
}
