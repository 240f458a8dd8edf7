// A single-threaded epoll loop for a media worker: file descriptor watches, timers, and a task
// queue other threads post to (the only place that takes a lock, and never per packet).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "common/clock.h"

namespace conclave::net {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using TimerId = uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `onReadable` (on the loop thread) whenever `fd` can be read. Level-triggered.
  void watch(int fd, Callback onReadable);
  void unwatch(int fd);

  // Runs `callback` once at `when` (or soon after). Loop thread only.
  TimerId setTimer(common::TimePoint when, Callback callback);
  void cancelTimer(TimerId id);

  // Thread-safe: queue `task` to run on the loop thread.
  void post(Callback task);
  // Thread-safe: makes run() return after the current iteration.
  void stop();

  // Runs until stop(). `afterBatch` runs after each round of ready callbacks (flush sends there).
  void run(const Callback& afterBatch = nullptr);

  common::TimePoint now() const { return mNow; }

 private:
  void runTasks();
  void runTimers();
  int timeoutMillis() const;

  int mEpoll = -1;
  int mWakeFd = -1;
  bool mStopping = false;
  common::TimePoint mNow;
  std::map<int, Callback> mWatches;
  std::multimap<common::TimePoint, std::pair<TimerId, Callback>> mTimers;
  std::map<TimerId, common::TimePoint> mTimerIndex;
  TimerId mNextTimer = 1;
  std::mutex mTaskMutex;
  std::vector<Callback> mTasks;
  bool mStopRequested = false;
};

}  // namespace conclave::net
