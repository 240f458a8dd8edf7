// An eventfd another thread rings to wake a worker's event loop (watch fd() for reading). Ringing
// is one write(2), safe from any thread; clear() reads the count away on the loop's thread.
// Several rings before the loop looks wake it once.
#pragma once

namespace conclave::net {

class Doorbell {
 public:
  // Throws std::runtime_error when the kernel gives no eventfd.
  Doorbell();
  ~Doorbell();
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  int fd() const { return mFd; }
  void ring() const;
  void clear() const;

 private:
  int mFd = -1;
};

}  // namespace conclave::net
