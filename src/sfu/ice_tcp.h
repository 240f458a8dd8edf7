// ICE-TCP passive candidates (RFC 6544) on a media worker, for browsers that cannot use UDP: a TCP
// listener on the same address and port number as the worker's UDP socket, in the worker's event
// loop. Each accepted connection carries RFC 4571 frames (a 16-bit length, then one STUN, DTLS or
// SRTP packet) and is a path of its own: its frames reach the transport as datagrams from the peer
// address tagged with the connection's id (net::Endpoint::overConnection), so the transport's ICE
// server learns it as one more candidate pair, the browser's nomination selects it like a UDP one,
// and what the transport then sends to that endpoint comes back here through send().
//
// A connection is tied to a transport by its first frame, which must be a STUN Binding request
// whose USERNAME names a transport of this worker (the same ufrag lookup as UDP) and which that
// transport's ICE server accepts (authenticated); anything else closes it. Before that it gets
// Config::handshakeTimeout and a write queue only large enough for STUN answers.
//
// Every input is hostile, so every resource is bounded: connections per worker and per client
// network (net::SourceKey; at the worker's limit a newcomer replaces the oldest connection that is
// not tied to a transport yet, so silent connections cannot lock browsers out: a browser sends its
// check at once and is tied within a round trip); a read buffer of two maximal frames (a longer length prefix closes the
// connection, since it is not a WebRTC peer or the stream lost its framing); a write queue per
// connection (a frame that does not fit is dropped and counted: late media is worth nothing, TCP
// already retransmits, and a peer that does not read cannot make the worker buffer without
// end), and a small kernel send buffer. Reads per wake-up are bounded too, so one connection
// cannot starve the others. Connections whose transport is gone, or whose pair the transport
// forgot (evicted, or no check for the consent timeout), are closed.
//
// Single-threaded (the worker's thread), no locks; the frame path does not allocate. Connections
// are closed in two steps: close() marks them (safe from inside any callback), flush() destroys
// them after the batch.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "net/endpoint.h"
#include "net/event_loop.h"
#include "net/source_key.h"
#include "net/stream_framing.h"
#include "net/tcp_socket.h"
#include "net/udp_socket.h"
#include "transport/webrtc_transport.h"

namespace conclave::sfu {

class IceTcpServer {
 public:
  struct Config {
    size_t maxConnections = 512;  // per worker
    size_t maxPerSource = 32;     // per client network; a browser opens one or two per PeerConnection
    // To send a Binding request the transport accepts, from accept().
    common::Duration handshakeTimeout = std::chrono::seconds(10);
    // STUN, DTLS and SRTP packets are the datagrams a WebRTC peer sends over UDP, so the same limit.
    size_t maxFrame = net::kMaxDatagram;
    // Write queue of a connection tied to a transport: ~200 ms of a 2.5 Mbit/s stream, beyond
    // what the kernel holds (kernelSendBuffer).
    size_t queueBytes = 64 * 1024;
    size_t handshakeQueueBytes = 512;  // before: a STUN answer and our own check
    int kernelSendBuffer = 128 * 1024;
  };

  struct Stats {
    uint64_t accepted = 0;
    uint64_t refused = 0;         // over maxPerSource, or over maxConnections with every connection tied
    uint64_t evicted = 0;         // the oldest connection not yet tied, closed for a newcomer at maxConnections
    uint64_t closedTimeout = 0;   // no accepted Binding request within handshakeTimeout
    uint64_t closedUnrouted = 0;  // first frame not a Binding request for a transport here, or refused by it
    uint64_t closedTooLarge = 0;  // a length prefix over maxFrame
    uint64_t closedByPeer = 0;    // the peer closed, or the connection failed
    uint64_t closedByServer = 0;  // its transport is gone or forgot the pair
    uint64_t framesReceived = 0;
    uint64_t framesQueued = 0;
    uint64_t framesDropped = 0;  // write queue full, or the connection is gone
  };

  class Host {
   public:
    virtual ~Host() = default;
    // The transport a STUN Binding request is for (by the local ufrag of its USERNAME), or null.
    virtual transport::WebRtcTransport* transportForCheck(std::span<const uint8_t> frame) = 0;
  };

  // Listens on `address`:`port` now (throws std::runtime_error with the reason if it cannot).
  IceTcpServer(net::EventLoop& loop, const std::string& address, uint16_t port, Host& host, Config config);
  IceTcpServer(net::EventLoop& loop, const std::string& address, uint16_t port, Host& host)
      : IceTcpServer(loop, address, port, host, Config{}) {}
  ~IceTcpServer();
  IceTcpServer(const IceTcpServer&) = delete;
  IceTcpServer& operator=(const IceTcpServer&) = delete;

  // Starts accepting (watches the listener in the loop).
  void start();
  uint16_t port() const { return mListener.localPort(); }

  // Queues `frame` on the connection of `path` (path.connection() != 0). False, and counted, if
  // that connection is gone or its queue has no room.
  bool send(const net::Endpoint& path, std::span<const uint8_t> frame);
  // Writes the queues that have something (one write per connection per batch) and destroys the
  // connections closed meanwhile. Call after each batch.
  void flush();
  // Handshake timeouts; call every few hundred milliseconds.
  void tick(common::TimePoint now);

  // The transport forgot the pair on `path`: close its connection.
  void closePath(const net::Endpoint& path, const transport::WebRtcTransport* transport);
  // The transport is gone: close every connection tied to it.
  void closeTransport(const transport::WebRtcTransport* transport);

  const Stats& stats() const { return mStats; }
  size_t connectionCount() const { return mConnections.size(); }
  // Bytes of read buffers and write queues held by open connections (kernel buffers not counted).
  size_t bufferBytes() const { return mBufferBytes; }

 private:
  struct Connection;
  enum class CloseReason : uint8_t { Timeout, Unrouted, TooLarge, ByPeer, ByServer, Evicted };
  // Accepts stop for this long when the process is out of descriptors (the listener would stay
  // readable and the loop would spin).
  static constexpr common::Duration kAcceptPause = std::chrono::seconds(1);

  void onAcceptable();
  // At maxConnections: closes the oldest connection not tied to a transport yet; false if none.
  bool evictOldestHandshake();
  void onReadable(uint64_t id);
  void onWritable(uint64_t id);
  void deliver(Connection& connection, std::span<uint8_t> frame, common::TimePoint now);
  void writeOut(Connection& connection);
  void close(Connection& connection, CloseReason reason);
  Connection* find(uint64_t id);

  net::EventLoop& mLoop;
  Host& mHost;
  Config mConfig;
  net::TcpListener mListener;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> mConnections;
  std::map<net::SourceKey, size_t> mPerSource;
  std::vector<uint64_t> mDirty;   // connections with queued bytes, reserved for maxConnections
  std::vector<uint64_t> mClosed;  // closed, to destroy in flush()
  uint64_t mReading = 0;          // the connection whose frames are being delivered (not destroyed meanwhile)
  uint64_t mNextId = 0;
  bool mAcceptPaused = false;
  size_t mBufferBytes = 0;
  common::TimePoint mNextSweep{};
  Stats mStats;
};

}  // namespace conclave::sfu
