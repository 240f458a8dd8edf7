// Hashing and checking meeting PINs with Argon2id (libsodium crypto_pwhash_str, "interactive"
// limits: 64 MiB, 2 passes).
//
// One hash or check takes about 80 ms of CPU and 64 MiB on the reference machine (measured with
// libsodium 1.0.18 on Debian 12: 75-80 ms warm, 300 ms cold). That would stall every meeting on
// the single I/O thread, so the server runs them on one worker thread (ThreadPinHasher) and posts
// each result back to the I/O thread. One thread bounds the memory to one hash at a time; the
// queue is bounded too (a full queue answers Busy, the caller says "try again"). Tests use
// InlinePinHasher, which answers at once on the calling thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace conclave::signaling {

enum class PinCheck { Match, Mismatch, Busy };

class PinHasher {
 public:
  virtual ~PinHasher() = default;
  // `done` runs on the I/O thread with the hash string, or an empty string (busy or failed).
  virtual void hash(std::string pin, std::function<void(std::string)> done) = 0;
  virtual void verify(std::string hash, std::string pin, std::function<void(PinCheck)> done) = 0;
};

// The work itself, on the calling thread. `cheap`: libsodium's minimum limits (tests only).
std::string hashPin(const std::string& pin, bool cheap = false);
bool verifyPin(const std::string& hash, const std::string& pin);

class InlinePinHasher final : public PinHasher {
 public:
  explicit InlinePinHasher(bool cheap = false) : mCheap(cheap) {}
  void hash(std::string pin, std::function<void(std::string)> done) override { done(hashPin(pin, mCheap)); }
  void verify(std::string hash, std::string pin, std::function<void(PinCheck)> done) override {
    done(verifyPin(hash, pin) ? PinCheck::Match : PinCheck::Mismatch);
  }

 private:
  bool mCheap;
};

class ThreadPinHasher final : public PinHasher {
 public:
  // `post` runs a task on the I/O thread (asio::post).
  using Post = std::function<void(std::function<void()>)>;
  explicit ThreadPinHasher(Post post, size_t maxQueued = 64);
  // Finishes the job at hand; queued jobs are dropped (their `done` never runs).
  ~ThreadPinHasher() override;
  ThreadPinHasher(const ThreadPinHasher&) = delete;
  ThreadPinHasher& operator=(const ThreadPinHasher&) = delete;

  void hash(std::string pin, std::function<void(std::string)> done) override;
  void verify(std::string hash, std::string pin, std::function<void(PinCheck)> done) override;

 private:
  bool full();
  void enqueue(std::function<void()> job);
  void run();

  Post mPost;
  size_t mMaxQueued;
  std::mutex mMutex;
  std::condition_variable mWake;
  std::deque<std::function<void()>> mJobs;
  bool mStopping = false;
  std::thread mThread;
};

}  // namespace conclave::signaling
