#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

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

// ICE-TCP's write queues wait for the kernel: the writable callback runs only while asked for, and
// once the peer has read enough to make room.
TEST(EventLoop, WritableCallbacksRunOnlyWhileWantedAndWhenThereIsRoom) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::vector<char> chunk(4096, 'x');
  while (::send(fds[0], chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  EventLoop loop;
  int writable = 0;
  loop.watch(
      fds[0], [] {},
      [&] {
        ++writable;
        loop.writeWanted(fds[0], false);
        loop.stop();
      });
  loop.writeWanted(fds[0], true);
  // Not writable yet (the buffer is full); a timer then drains the peer, which makes room.
  loop.setTimer(std::chrono::steady_clock::now() + 20ms, [&] {
    EXPECT_EQ(writable, 0);
    std::vector<char> sink(1 << 20);
    while (::recv(fds[1], sink.data(), sink.size(), MSG_DONTWAIT) > 0) {
    }
  });
  loop.setTimer(std::chrono::steady_clock::now() + 10s, [&] { loop.stop(); });  // the test's deadline
  loop.run();
  EXPECT_EQ(writable, 1);
  loop.unwatch(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}
