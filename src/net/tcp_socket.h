// Non-blocking TCP for ICE-TCP (RFC 6544) on a media worker: a listening socket on the worker's
// address and port, and the accepted streams. Framing (RFC 4571) is in stream_framing.h; the
// worker's loop decides what to read and write and when.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "net/endpoint.h"

namespace conclave::net {

// One accepted connection; closes its descriptor when destroyed.
class TcpStream {
 public:
  enum class Io : uint8_t { Done, WouldBlock, Closed };  // Closed: the peer closed, or an error
  struct IoResult {
    Io status = Io::Done;
    size_t bytes = 0;
  };

  TcpStream(int fd, Endpoint peer);
  ~TcpStream();
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  int fd() const { return mFd; }
  const Endpoint& peer() const { return mPeer; }
  IoResult read(std::span<uint8_t> into);
  IoResult write(std::span<const uint8_t> bytes);

 private:
  int mFd;
  Endpoint mPeer;
};

class TcpListener {
 public:
  // Binds to `address` ("0.0.0.0", "::", "127.0.0.1") and `port` (0: any) and listens. Throws
  // std::runtime_error with the reason if that fails.
  TcpListener(const std::string& address, uint16_t port);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  int fd() const { return mFd; }
  uint16_t localPort() const { return mPort; }
  // The next waiting connection, non-blocking, with a kernel send buffer of `sendBufferBytes`
  // (what a peer that does not read can hold in the kernel); nullopt when none is waiting or
  // accept() failed (errno says why: EAGAIN, or EMFILE when out of descriptors).
  std::optional<std::pair<int, Endpoint>> accept(int sendBufferBytes);

 private:
  int mFd = -1;
  uint16_t mPort = 0;
};

// A port number that is free for both UDP and TCP on `address`, for a worker asked for any port
// (ICE-TCP listens on the same number as the UDP socket). Throws if none is found.
uint16_t freeUdpAndTcpPort(const std::string& address);

}  // namespace conclave::net
