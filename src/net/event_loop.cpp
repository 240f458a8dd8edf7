#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace conclave::net {
namespace {
// The longest one epoll_wait sleeps when no timer is due sooner; posted tasks and stop() wake the
// loop at once through the eventfd, so this only bounds an idle wait.
constexpr std::chrono::milliseconds kMaxWait{1000};
// Ready descriptors taken per epoll_wait: a worker watches its UDP socket, the eventfd, its TCP
// listener and its TCP connections; a longer ready list is served by the next call
// (level-triggered, nothing is lost).
constexpr int kMaxEvents = 64;
}  // namespace

EventLoop::EventLoop() : mNow(std::chrono::steady_clock::now()) {
  mEpoll = ::epoll_create1(EPOLL_CLOEXEC);
  mWakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (mEpoll < 0 || mWakeFd < 0)
    throw std::runtime_error(std::string("event loop: ") + std::generic_category().message(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = mWakeFd;
  ::epoll_ctl(mEpoll, EPOLL_CTL_ADD, mWakeFd, &ev);
}

EventLoop::~EventLoop() {
  ::close(mWakeFd);
  ::close(mEpoll);
}

void EventLoop::watch(int fd, Callback onReadable) { watch(fd, std::move(onReadable), nullptr); }

void EventLoop::watch(int fd, Callback onReadable, Callback onWritable) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(mEpoll, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::runtime_error(std::string("event loop: cannot watch: ") + std::generic_category().message(errno));
  mWatches[fd] = Watch{std::move(onReadable), std::move(onWritable), false};
}

void EventLoop::writeWanted(int fd, bool wanted) {
  auto it = mWatches.find(fd);
  if (it == mWatches.end() || !it->second.writable || it->second.writeWanted == wanted) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (wanted ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  if (::epoll_ctl(mEpoll, EPOLL_CTL_MOD, fd, &ev) == 0) it->second.writeWanted = wanted;
}

void EventLoop::unwatch(int fd) {
  ::epoll_ctl(mEpoll, EPOLL_CTL_DEL, fd, nullptr);
  mWatches.erase(fd);
}

EventLoop::TimerId EventLoop::setTimer(common::TimePoint when, Callback callback) {
  TimerId id = mNextTimer++;
  mTimers.emplace(when, std::make_pair(id, std::move(callback)));
  mTimerIndex[id] = when;
  return id;
}

void EventLoop::cancelTimer(TimerId id) {
  auto it = mTimerIndex.find(id);
  if (it == mTimerIndex.end()) return;
  auto [first, last] = mTimers.equal_range(it->second);
  for (auto t = first; t != last; ++t) {
    if (t->second.first == id) {
      mTimers.erase(t);
      break;
    }
  }
  mTimerIndex.erase(it);
}

void EventLoop::post(Callback task) {
  {
    std::lock_guard lock(mTaskMutex);
    mTasks.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(mWakeFd, &one, sizeof one);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mTaskMutex);
    mStopRequested = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(mWakeFd, &one, sizeof one);
}

void EventLoop::runTasks() {
  std::vector<Callback> tasks;
  {
    std::lock_guard lock(mTaskMutex);
    tasks.swap(mTasks);
    if (mStopRequested) mStopping = true;
  }
  for (auto& t : tasks) t();
}

void EventLoop::runTimers() {
  while (!mTimers.empty() && mTimers.begin()->first <= mNow) {
    auto node = mTimers.extract(mTimers.begin());
    mTimerIndex.erase(node.mapped().first);
    node.mapped().second();
  }
}

int EventLoop::timeoutMillis() const {
  if (mTimers.empty()) return static_cast<int>(kMaxWait.count());
  auto wait = mTimers.begin()->first - std::chrono::steady_clock::now();
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, kMaxWait.count()));
}

void EventLoop::run(const Callback& afterBatch) {
  epoll_event events[kMaxEvents];
  while (!mStopping) {
    int n = ::epoll_wait(mEpoll, events, kMaxEvents, timeoutMillis());
    mNow = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == mWakeFd) {
        uint64_t count;
        [[maybe_unused]] auto r = ::read(mWakeFd, &count, sizeof count);
        runTasks();
        continue;
      }
      // Each callback may unwatch (and close) the descriptor: look it up again before the next.
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        auto it = mWatches.find(fd);
        if (it != mWatches.end()) it->second.readable();
      }
      if (events[i].events & EPOLLOUT) {
        auto it = mWatches.find(fd);
        if (it != mWatches.end() && it->second.writeWanted) it->second.writable();
      }
    }
    runTimers();
    if (afterBatch) afterBatch();
  }
}

}  // namespace conclave::net
