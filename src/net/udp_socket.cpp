#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
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
  mReadTime = steadyNow;
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
      if (agoNs >= 0 && std::chrono::nanoseconds(agoNs) < kMaxStampAge)
        arrival = steadyNow - std::chrono::nanoseconds(agoNs);
    }
    if (kept != static_cast<size_t>(i)) std::swap(mBuffers[kept], mBuffers[i]);
    mLengths[kept] = mHeaders[i].msg_len;
    mFrom[kept] = *from;
    mArrivals[kept] = arrival;
    ++kept;
  }
  return kept;
}

namespace {
size_t tableSizeFor(size_t capacity) {
  size_t n = 16;
  while (n < 2 * capacity) n *= 2;
  return n;
}
}  // namespace

SendBatch::SendBatch(UdpSocket& socket, size_t capacity)
    : mSocket(socket),
      mBuffers(capacity),
      mHeaders(capacity),
      mIovecs(capacity),
      mAddrs(capacity),
      mTo(capacity),
      mNext(capacity, kNone),
      mTail(capacity, kNone),
      mTable(tableSizeFor(capacity), kNone),
      mRunIovecs(capacity),
      mOut(capacity),
      mOutSegments(capacity),
      mControls(capacity) {
  mGroupHead.reserve(capacity);
}

bool SendBatch::enableSegmentation(bool on) {
  flush();
  if (!on) return mSegmentation = false;
  // The option exists (and reads 0) on kernels that take UDP_SEGMENT controls.
  int size = 0;
  socklen_t len = sizeof size;
  mSegmentation = ::getsockopt(mSocket.fd(), SOL_UDP, UDP_SEGMENT, &size, &len) == 0;
  return mSegmentation;
}

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
  if (mSegmentation) linkToDestination(mCount, to);
  ++mCount;
}

void SendBatch::linkToDestination(size_t index, const net::Endpoint& to) {
  const auto i = static_cast<uint32_t>(index);
  mTo[index] = to;
  mNext[index] = kNone;
  const size_t mask = mTable.size() - 1;
  for (size_t h = to.hash() & mask;; h = (h + 1) & mask) {
    uint32_t group = mTable[h];
    if (group == kNone) {
      mTable[h] = static_cast<uint32_t>(mGroupHead.size());
      mGroupHead.push_back(i);  // within the capacity reserved: never reallocates
      mTail[mGroupHead.size() - 1] = i;
      return;
    }
    if (mTo[mGroupHead[group]] == to) {
      mNext[mTail[group]] = i;
      mTail[group] = i;
      return;
    }
  }
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
  if (mCount == 0) return;
  if (mSegmentation) {
    flushSegmented();
    std::fill(mTable.begin(), mTable.end(), kNone);
    mGroupHead.clear();
  } else {
    flushPlain();
  }
  mCount = 0;
}

void SendBatch::flushPlain() {
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
    mMessages += static_cast<uint64_t>(n);
    offset += static_cast<size_t>(n);
  }
}

void SendBatch::flushSegmented() {
  // Runs: consecutive datagrams of one destination, all of one size but the last, which may be
  // shorter (the kernel cuts the message at every gso_size bytes).
  size_t runs = 0;
  size_t iov = 0;
  for (uint32_t head : mGroupHead) {
    for (uint32_t i = head; i != kNone;) {
      const size_t size = mIovecs[i].iov_len;
      const size_t first = iov;
      size_t bytes = 0;
      while (i != kNone && iov - first < kMaxSegments && bytes + mIovecs[i].iov_len <= kMaxSegmentedBytes) {
        const size_t len = mIovecs[i].iov_len;
        if (len > size) break;
        mRunIovecs[iov++] = mIovecs[i];
        bytes += len;
        i = mNext[i];
        if (len < size) break;  // a shorter datagram ends the run
      }
      const size_t segments = iov - first;
      auto& out = mOut[runs];
      out = {};
      out.msg_hdr.msg_iov = &mRunIovecs[first];
      out.msg_hdr.msg_iovlen = segments;
      out.msg_hdr.msg_name = &mAddrs[head];
      out.msg_hdr.msg_namelen = mHeaders[head].msg_hdr.msg_namelen;
      if (segments > 1) {
        auto& control = mControls[runs];
        out.msg_hdr.msg_control = control.bytes.data();
        out.msg_hdr.msg_controllen = control.bytes.size();
        ::cmsghdr* c = CMSG_FIRSTHDR(&out.msg_hdr);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const auto gso = static_cast<uint16_t>(size);
        std::memcpy(CMSG_DATA(c), &gso, sizeof gso);
      }
      mOutSegments[runs] = static_cast<uint32_t>(segments);
      ++runs;
    }
  }
  sendRuns(runs);
}

void SendBatch::sendRuns(size_t count) {
  size_t offset = 0;
  while (offset < count) {
    int n = ::sendmmsg(mSocket.fd(), mOut.data() + offset, static_cast<unsigned>(count - offset), MSG_DONTWAIT);
    if (n > 0) {
      for (size_t k = offset; k < offset + static_cast<size_t>(n); ++k) mSent += mOutSegments[k];
      mMessages += static_cast<uint64_t>(n);
      offset += static_cast<size_t>(n);
      continue;
    }
    auto& refused = mOut[offset];
    const uint32_t segments = mOutSegments[offset];
    if (segments > 1 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT)) {
      // This run goes one by one. EINVAL is the one destination's path (a segment longer than
      // its MTU): the others keep segmentation. EIO (no checksum offload) and ENOPROTOOPT are
      // the host's: segmentation stays off from now on.
      if (errno != EINVAL) mSegmentation = false;
      for (uint32_t s = 0; s < segments; ++s) {
        ::msghdr one = refused.msg_hdr;
        one.msg_iov = refused.msg_hdr.msg_iov + s;
        one.msg_iovlen = 1;
        one.msg_control = nullptr;
        one.msg_controllen = 0;
        if (::sendmsg(mSocket.fd(), &one, MSG_DONTWAIT) >= 0) {
          ++mSent;
          ++mMessages;
        } else {
          ++mDropped;
        }
      }
    } else {
      // Socket buffer full or a per-destination error: drop this run and go on.
      mDropped += segments;
    }
    ++offset;
  }
}

}  // namespace conclave::net
