#include "net/doorbell.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace conclave::net {

Doorbell::Doorbell() : mFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (mFd < 0) throw std::runtime_error("doorbell: " + std::generic_category().message(errno));
}

Doorbell::~Doorbell() { ::close(mFd); }

void Doorbell::ring() const {
  const uint64_t one = 1;
  // EAGAIN only when the counter is near 2^64: the loop is woken anyway.
  [[maybe_unused]] auto n = ::write(mFd, &one, sizeof one);
}

void Doorbell::clear() const {
  uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(mFd, &count, sizeof count);
}

}  // namespace conclave::net
