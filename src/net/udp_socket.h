// A non-blocking UDP socket with batched receive (recvmmsg) and send (sendmmsg) into buffers
// allocated once: the packet path allocates nothing.
#pragma once

#include <sys/socket.h>
#include <time.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/endpoint.h"

namespace conclave::net {

// Room for any datagram a WebRTC peer sends (DTLS keeps to 1200 bytes, RTP to the path MTU,
// 1500 on Ethernet). A longer one arrives truncated and is dropped (MSG_TRUNC), as is a longer one
// given to SendBatch::send().
inline constexpr size_t kMaxDatagram = 2048;

class UdpSocket {
 public:
  // Binds to `address` ("0.0.0.0", "::", "127.0.0.1", "::1") and `port` (0: any). Throws
  // std::runtime_error with the reason if that fails.
  //
  // "::" is one dual-stack socket (IPV6_V6ONLY off, whatever net.ipv6.bindv6only says): IPv6
  // peers as themselves, IPv4 peers as IPv4-mapped addresses (::ffff:a.b.c.d), which Endpoint
  // keeps as they came so replies go out through the same socket. One socket per worker rather
  // than one per family keeps one receive loop, one send batch and one routing table, and every
  // announced address of either family reaches the same worker on the same port. On a kernel
  // without IPv6 (socket() fails with EAFNOSUPPORT) "::" falls back to "0.0.0.0".
  // A wildcard socket's replies leave from the address the kernel's routing picks for the peer;
  // on a host with several addresses of one family, announce that one (for IPv6 the stable
  // address, not a temporary one) or bind to the announced address.
  UdpSocket(const std::string& address, uint16_t port);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return mFd; }
  // Asks the kernel to stamp each received datagram with its receive time (SO_TIMESTAMPNS),
  // which ReceiveBatch::arrival() reads. False where the kernel refuses.
  bool enableReceiveTimestamps();
  // AF_INET or AF_INET6: the family of the bound address (AF_INET after the fallback above).
  int family() const { return mFamily; }
  uint16_t localPort() const { return mPort; }

 private:
  int mFd = -1;
  int mFamily = AF_UNSPEC;
  uint16_t mPort = 0;
};

// Received datagrams of one recvmmsg call.
class ReceiveBatch {
 public:
  explicit ReceiveBatch(size_t capacity);
  // Reads as many datagrams as are waiting (up to capacity); returns how many.
  size_t receive(const UdpSocket& socket);
  std::span<uint8_t> data(size_t i) { return {mBuffers[i].data(), mLengths[i]}; }
  const net::Endpoint& from(size_t i) const { return mFrom[i]; }
  // When datagram i reached the host, on the steady clock: the kernel's receive timestamp where
  // the socket has them on (UdpSocket::enableReceiveTimestamps), else the time of the receive()
  // call. Never later than that call: datagrams that waited in the socket buffer while the loop
  // was busy keep the times they arrived at, not one time for the whole batch, however long they
  // waited (up to kMaxStampAge).
  common::TimePoint arrival(size_t i) const { return mArrivals[i]; }
  // The time of the last receive() call that returned datagrams: readTime() - arrival(i) is how
  // long datagram i waited in the socket buffer.
  common::TimePoint readTime() const { return mReadTime; }

  // A kernel stamp in the future, or more than this long before the read, is not believed (the
  // realtime clock the kernel stamps with was stepped between the stamp and the read): the
  // datagram counts as arrived at the read. A socket buffer of a few MiB can hold seconds of
  // datagrams for a reader that falls behind, and those seconds must show (the media worker drops
  // what waited too long; a load tool must not report its own backlog as the network's), so the
  // bound is well above that.
  static constexpr common::Duration kMaxStampAge = std::chrono::seconds(30);

 private:
  // Room for the SCM_TIMESTAMPNS control message of one datagram.
  struct alignas(::cmsghdr) Control {
    std::array<uint8_t, CMSG_SPACE(sizeof(::timespec))> bytes;
  };

  std::vector<std::array<uint8_t, kMaxDatagram>> mBuffers;
  std::vector<::mmsghdr> mHeaders;
  std::vector<::iovec> mIovecs;
  std::vector<::sockaddr_storage> mAddrs;
  std::vector<Control> mControls;
  std::vector<size_t> mLengths;
  std::vector<net::Endpoint> mFrom;
  std::vector<common::TimePoint> mArrivals;
  common::TimePoint mReadTime{};
};

// Datagrams queued for one sendmmsg call. The caller writes into slot() and commits it.
//
// With segmentation on (UDP GSO, enableSegmentation()), flush() sends the datagrams queued for
// one destination as runs of equal size (the last of a run may be shorter), each run one message
// with a UDP_SEGMENT control: the kernel walks its UDP/IP stack once per run instead of once per
// datagram, and the datagrams leave one by one as before. Datagrams to one destination keep
// their order; datagrams to different destinations may leave in another order than committed.
// A refused segmented send goes out again datagram by datagram. A host that refuses them (EIO: no
// checksum offload on the device) turns segmentation off; one destination whose path MTU is
// below the segment size (EINVAL) costs only its own runs that retry.
class SendBatch {
 public:
  SendBatch(UdpSocket& socket, size_t capacity);

  // A buffer for the next datagram (flushes first when the batch is full).
  std::span<uint8_t> slot();
  void commit(size_t length, const net::Endpoint& to);
  // Copies `data` into a slot and commits it.
  void send(std::span<const uint8_t> data, const net::Endpoint& to);
  void flush();

  // Turns UDP GSO on where the kernel has it (Linux 4.18+); returns whether it is on.
  bool enableSegmentation(bool on);
  bool segmentation() const { return mSegmentation; }

  uint64_t sentCount() const { return mSent; }
  uint64_t dropCount() const { return mDropped; }
  // Messages handed to the kernel: equal to sentCount() without segmentation, fewer with it.
  uint64_t messageCount() const { return mMessages; }

  // At most this many datagrams in one segmented message (the kernel allows 64 or more), and at
  // most this many bytes in all (an IPv4 datagram's 65,535 less the headers).
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxSegmentedBytes = 65'000;

 private:
  // Room for the UDP_SEGMENT control message of one message.
  struct alignas(::cmsghdr) SegmentControl {
    std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> bytes;
  };
  static constexpr uint32_t kNone = UINT32_MAX;

  void flushPlain();
  void flushSegmented();
  // Sends mOut[0, count) (runs built by flushSegmented), resending a refused run unsegmented.
  void sendRuns(size_t count);
  void linkToDestination(size_t index, const net::Endpoint& to);

  UdpSocket& mSocket;
  std::vector<std::array<uint8_t, kMaxDatagram>> mBuffers;
  std::vector<::mmsghdr> mHeaders;
  std::vector<::iovec> mIovecs;
  std::vector<::sockaddr_storage> mAddrs;
  size_t mCount = 0;
  uint64_t mSent = 0;
  uint64_t mDropped = 0;
  uint64_t mMessages = 0;

  // Segmentation: the datagrams of one destination form a list (mNext) from its first datagram,
  // found through a small open-addressing table keyed by the destination (rebuilt each batch).
  bool mSegmentation = false;
  std::vector<net::Endpoint> mTo;         // destination of each slot
  std::vector<uint32_t> mNext;            // next slot to the same destination, or kNone
  std::vector<uint32_t> mTail;            // per group: its last slot
  std::vector<uint32_t> mGroupHead;       // per group: its first slot, in order of first commit
  std::vector<uint32_t> mTable;           // hash slot -> group, kNone when free
  std::vector<::iovec> mRunIovecs;        // the iovecs of each run, contiguous per run
  std::vector<::mmsghdr> mOut;            // one message per run
  std::vector<uint32_t> mOutSegments;     // datagrams in each message
  std::vector<SegmentControl> mControls;  // UDP_SEGMENT of each message
};

}  // namespace conclave::net
