#include "signaling/pin_hasher.h"

#include <sodium.h>

#include <stdexcept>

namespace conclave::signaling {
namespace {

void initSodium() {
  // Idempotent and thread-safe; fails only when the system has no usable randomness.
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
}

}  // namespace

std::string hashPin(const std::string& pin, bool cheap) {
  initSodium();
  char out[crypto_pwhash_STRBYTES];
  auto ops = cheap ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  auto mem = cheap ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str(out, pin.data(), pin.size(), ops, mem) != 0) return {};
  return out;
}

bool verifyPin(const std::string& hash, const std::string& pin) {
  initSodium();
  return !hash.empty() && crypto_pwhash_str_verify(hash.c_str(), pin.data(), pin.size()) == 0;
}

ThreadPinHasher::ThreadPinHasher(Post post, size_t maxQueued) : mPost(std::move(post)), mMaxQueued(maxQueued) {
  initSodium();
  mThread = std::thread([this] { run(); });
}

ThreadPinHasher::~ThreadPinHasher() {
  {
    std::lock_guard lock(mMutex);
    mStopping = true;
    mJobs.clear();
  }
  mWake.notify_all();
  mThread.join();
}

// Only the I/O thread enqueues, so a queue that was not full() a moment ago has room.
void ThreadPinHasher::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mMutex);
    if (mStopping) return;
    mJobs.push_back(std::move(job));
  }
  mWake.notify_one();
}

bool ThreadPinHasher::full() {
  std::lock_guard lock(mMutex);
  return mStopping || mJobs.size() >= mMaxQueued;
}

// `done` is moved on into the task posted back, so that it is destroyed on the I/O thread too
// (it may hold the last reference to a session).
void ThreadPinHasher::hash(std::string pin, std::function<void(std::string)> done) {
  if (full()) return done({});
  enqueue([this, pin = std::move(pin), done = std::move(done)]() mutable {
    std::string result = hashPin(pin, false);
    sodium_memzero(pin.data(), pin.size());
    mPost([done = std::move(done), result = std::move(result)] { done(result); });
  });
}

void ThreadPinHasher::verify(std::string hash, std::string pin, std::function<void(PinCheck)> done) {
  if (full()) return done(PinCheck::Busy);
  enqueue([this, hash = std::move(hash), pin = std::move(pin), done = std::move(done)]() mutable {
    bool match = verifyPin(hash, pin);
    sodium_memzero(pin.data(), pin.size());
    mPost([done = std::move(done), match] { done(match ? PinCheck::Match : PinCheck::Mismatch); });
  });
}

void ThreadPinHasher::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mMutex);
      mWake.wait(lock, [this] { return mStopping || !mJobs.empty(); });
      if (mStopping) return;
      job = std::move(mJobs.front());
      mJobs.pop_front();
    }
    job();
  }
}

}  // namespace conclave::signaling
