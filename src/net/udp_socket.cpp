#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace conclave::net {
namespace {
// Kernel socket buffers (each direction), so that what arrives while the loop runs timers and
// tasks, or a keyframe fanned out to many subscribers, waits in the kernel instead of being
// dropped. Linux caps the value at net.core.rmem_max / wmem_max unless those are raised.
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;
}  // namespace

UdpSocket::UdpSocket(const std::string& address, uint16_t port) {
  ::sockaddr_storage ss{};
  socklen_t len = 0;
  auto* in4 = reinterpret_cast<::sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<::sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    len = sizeof(::sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    len = sizeof(::sockaddr_in6);
  } else {
    throw std::runtime_error("media address \"" + address + "\" is not an IP address");
  }
  mFd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (mFd < 0 && errno == EAFNOSUPPORT && ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
    // No IPv6 in this kernel: the wildcard of the one family there is.
    ss = {};
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    len = sizeof(::sockaddr_in);
    mFd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (mFd < 0) throw std::runtime_error(std::string("UDP socket: ") + std::generic_category().message(errno));
  mFamily = ss.ss_family;
  if (ss.ss_family == AF_INET6) {
    int off = 0;
    if (::setsockopt(mFd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) {
      int err = errno;
      ::close(mFd);
      throw std::runtime_error("UDP " + address +
                               ": cannot turn IPV6_V6ONLY off: " + std::generic_category().message(err));
    }
  }
  int size = kSocketBufferBytes;
  ::setsockopt(mFd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(mFd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (::bind(mFd, reinterpret_cast<::sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(mFd);
    throw std::runtime_error("cannot bind UDP " + address + ":" + std::to_string(port) + ": " +
                             std::generic_category().message(err));
  }
  ::sockaddr_storage bound{};
  socklen_t boundLen = sizeof bound;
  ::getsockname(mFd, reinterpret_cast<::sockaddr*>(&bound), &boundLen);
  mPort = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<::sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<::sockaddr_in6*>(&bound)->sin6_port);
}

UdpSocket::~UdpSocket() {
  if (mFd >= 0) ::close(mFd);
}

bool UdpSocket::enableReceiveTimestamps() {
  int on = 1;
  return ::setsockopt(mFd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
}

ReceiveBatch::ReceiveBatch(size_t capacity)
    : mBuffers(capacity),
      mHeaders(capacity),
      mIovecs(capacity),
      mAddrs(capacity),
      mControls(capacity),
      mLengths(capacity),
      mFrom(capacity),
      mArrivals(capacity) {}

size_t ReceiveBatch::receive(const UdpSocket& socket) {
  for (size_t i = 0; i < mBuffers.size(); ++i) {
    mIovecs[i] = {mBuffers[i].data(), mBuffers[i].size()};
    mHeaders[i] = {};
    mHeaders[i].msg_hdr.msg_iov = &mIovecs[i];
    mHeaders[i].msg_hdr.msg_iovlen = 1;
    mHeaders[i].msg_hdr.msg_name = &mAddrs[i];
    mHeaders[i].msg_hdr.msg_namelen = sizeof(::sockaddr_storage);
    mHeaders[i].msg_hdr.msg_control = mControls[i].bytes.data();
    mHeaders[i].msg_hdr.msg_controllen = mControls[i].bytes.size();
  }
  int n = ::recvmmsg(socket.fd(), mHeaders.data(), static_cast<unsigned>(mHeaders.size()), MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  // Kernel timestamps are on the realtime clock: each becomes "this long before now" on the
  // steady clock, with both clocks read once for the batch.
  const auto steadyNow = std::chrono::steady_clock::now();
  ::timespec realNow{};
  ::clock_gettime(CLOCK_REALTIME, &realNow);
  size_t kept = 0;
  for (int i = 0; i < n; ++i) {
    auto from = net::Endpoint::fromSockaddr(reinterpret_cast<::sockaddr*>(&mAddrs[i]), mHeaders[i].msg_hdr.msg_namelen);
    if (!from || (mHeaders[i].msg_hdr.msg_flags & MSG_TRUNC)) continue;
    common::TimePoint arrival = steadyNow;
    for (auto* c = CMSG_FIRSTHDR(&mHeaders[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&mHeaders[i].msg_hdr, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS || c->cmsg_len < CMSG_LEN(sizeof(::timespec)))
        continue;
      ::timespec stamp{};
      std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
      const int64_t agoNs =
          (int64_t{realNow.tv_sec} - stamp.tv_sec) * 1'000'000'000 + (realNow.tv_nsec - stamp.tv_nsec);
      // A realtime clock stepped between the two readings is no reason to believe a future
      // arrival, nor one more than a second ago.
      if (agoNs >= 0 && agoNs < 1'000'000'000) arrival = steadyNow - std::chrono::nanoseconds(agoNs);
    }
    if (kept != static_cast<size_t>(i)) std::swap(mBuffers[kept], mBuffers[i]);
    mLengths[kept] = mHeaders[i].msg_len;
    mFrom[kept] = *from;
    mArrivals[kept] = arrival;
    ++kept;
  }
  return kept;
}

SendBatch::SendBatch(UdpSocket& socket, size_t capacity)
    : mSocket(socket), mBuffers(capacity), mHeaders(capacity), mIovecs(capacity), mAddrs(capacity) {}

std::span<uint8_t> SendBatch::slot() {
  if (mCount == mBuffers.size()) flush();
  return mBuffers[mCount];
}

void SendBatch::commit(size_t length, const net::Endpoint& to) {
  mIovecs[mCount] = {mBuffers[mCount].data(), length};
  mAddrs[mCount] = to.toSockaddrStorage();
  mHeaders[mCount] = {};
  mHeaders[mCount].msg_hdr.msg_iov = &mIovecs[mCount];
  mHeaders[mCount].msg_hdr.msg_iovlen = 1;
  mHeaders[mCount].msg_hdr.msg_name = &mAddrs[mCount];
  mHeaders[mCount].msg_hdr.msg_namelen = to.sockaddrLength();
  ++mCount;
}

void SendBatch::send(std::span<const uint8_t> data, const net::Endpoint& to) {
  if (data.size() > kMaxDatagram) {
    ++mDropped;
    return;
  }
  auto buf = slot();
  std::memcpy(buf.data(), data.data(), data.size());
  commit(data.size(), to);
}

void SendBatch::flush() {
  size_t offset = 0;
  while (offset < mCount) {
    int n = ::sendmmsg(mSocket.fd(), mHeaders.data() + offset, static_cast<unsigned>(mCount - offset), MSG_DONTWAIT);
    if (n <= 0) {
      // Socket buffer full or a per-destination error: drop this datagram and go on.
      ++mDropped;
      ++offset;
      continue;
    }
    mSent += static_cast<uint64_t>(n);
    offset += static_cast<size_t>(n);
  }
  mCount = 0;
}

}  // namespace conclave::net
