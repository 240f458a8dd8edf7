#include "net/tcp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace conclave::net {
namespace {

// Connections waiting for accept(): the worker accepts them all on each wake-up (within its
// budgets), so this only absorbs a burst.
constexpr int kListenBacklog = 128;

std::optional<::sockaddr_storage> socketAddress(const std::string& address, uint16_t port, socklen_t& len) {
  ::sockaddr_storage ss{};
  auto* in4 = reinterpret_cast<::sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<::sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    len = sizeof(::sockaddr_in);
    return ss;
  }
  if (::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    len = sizeof(::sockaddr_in6);
    return ss;
  }
  return std::nullopt;
}

uint16_t boundPort(int fd) {
  ::sockaddr_storage bound{};
  socklen_t boundLen = sizeof bound;
  ::getsockname(fd, reinterpret_cast<::sockaddr*>(&bound), &boundLen);
  return ntohs(bound.ss_family == AF_INET ? reinterpret_cast<::sockaddr_in*>(&bound)->sin_port
                                          : reinterpret_cast<::sockaddr_in6*>(&bound)->sin6_port);
}

}  // namespace

TcpStream::TcpStream(int fd, Endpoint peer) : mFd(fd), mPeer(peer) {}

TcpStream::~TcpStream() {
  if (mFd >= 0) ::close(mFd);
}

TcpStream::IoResult TcpStream::read(std::span<uint8_t> into) {
  if (into.empty()) return {Io::Done, 0};
  ssize_t n = ::recv(mFd, into.data(), into.size(), MSG_DONTWAIT);
  if (n > 0) return {Io::Done, static_cast<size_t>(n)};
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return {Io::WouldBlock, 0};
  return {Io::Closed, 0};
}

TcpStream::IoResult TcpStream::write(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return {Io::Done, 0};
  ssize_t n = ::send(mFd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n >= 0) return {Io::Done, static_cast<size_t>(n)};
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {Io::WouldBlock, 0};
  return {Io::Closed, 0};
}

TcpListener::TcpListener(const std::string& address, uint16_t port) {
  socklen_t len = 0;
  auto ss = socketAddress(address, port, len);
  if (!ss) throw std::runtime_error("media address \"" + address + "\" is not an IP address");
  mFd = ::socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (mFd < 0) throw std::runtime_error(std::string("TCP socket: ") + std::generic_category().message(errno));
  int on = 1;
  ::setsockopt(mFd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (ss->ss_family == AF_INET6) {
    int off = 0;
    ::setsockopt(mFd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (::bind(mFd, reinterpret_cast<::sockaddr*>(&*ss), len) != 0 || ::listen(mFd, kListenBacklog) != 0) {
    int err = errno;
    ::close(mFd);
    throw std::runtime_error("cannot listen on TCP " + address + ":" + std::to_string(port) + ": " +
                             std::generic_category().message(err));
  }
  mPort = boundPort(mFd);
}

TcpListener::~TcpListener() {
  if (mFd >= 0) ::close(mFd);
}

std::optional<std::pair<int, Endpoint>> TcpListener::accept(int sendBufferBytes) {
  while (true) {
    ::sockaddr_storage from{};
    socklen_t fromLen = sizeof from;
    int fd = ::accept4(mFd, reinterpret_cast<::sockaddr*>(&from), &fromLen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // ECONNABORTED and friends: that one is gone, the next may be fine.
      if (errno == ECONNABORTED || errno == EPROTO || errno == EINTR) continue;
      return std::nullopt;  // EAGAIN, or out of descriptors (the level-triggered watch retries)
    }
    auto peer = Endpoint::fromSockaddr(reinterpret_cast<::sockaddr*>(&from), fromLen);
    if (!peer) {
      ::close(fd);
      continue;
    }
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // each frame is a real-time packet
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBufferBytes, sizeof sendBufferBytes);
    return std::make_pair(fd, *peer);
  }
}

uint16_t freeUdpAndTcpPort(const std::string& address) {
  socklen_t len = 0;
  auto any = socketAddress(address, 0, len);
  if (!any) throw std::runtime_error("media address \"" + address + "\" is not an IP address");
  for (int attempt = 0; attempt < 64; ++attempt) {
    TcpListener tcp(address, 0);
    auto ss = socketAddress(address, tcp.localPort(), len);
    int udp = ::socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (udp < 0) break;
    const bool free = ::bind(udp, reinterpret_cast<::sockaddr*>(&*ss), len) == 0;
    ::close(udp);
    if (free) return tcp.localPort();
  }
  throw std::runtime_error("no port free for both UDP and TCP on " + address);
}

}  // namespace conclave::net
