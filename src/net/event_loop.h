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

  // Calls `onReadable` (on the loop thread) whenever `fd` can be read, or has an error or hang-up
  // to report (a read then says which). Level-triggered.
  void watch(int fd, Callback onReadable);
  // Also calls `onWritable` whenever `fd` can be written and writeWanted(fd, true) was asked (a
  // TCP connection with a queue the kernel did not take). Level-triggered.
  void watch(int fd, Callback onReadable, Callback onWritable);
  void writeWanted(int fd, bool wanted);
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
  struct Watch {
    Callback readable;
    Callback writable;
    bool writeWanted = false;
  };
  std::map<int, Watch> mWatches;
  std::multimap<common::TimePoint, std::pair<TimerId, Callback>> mTimers;
  std::map<TimerId, common::TimePoint> mTimerIndex;
  TimerId mNextTimer = 1;
  std::mutex mTaskMutex;
  std::vector<Callback> mTasks;
  bool mStopRequested = false;
};

}  // namespace conclave::net
