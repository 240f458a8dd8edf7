// A media worker: one thread, one UDP port (and ICE-TCP on the same port number, see ice_tcp.h),
// a batched receive/send loop, and the routers (rooms) that live on it. Workers share no mutable state; the control plane talks to a worker only by
// posting tasks to it.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "dtls/dtls_context.h"
#include "net/event_loop.h"
#include "net/udp_socket.h"
#include "sfu/fanout.h"
#include "sfu/ice_tcp.h"
#include "sfu/router.h"
#include "sfu/router_metrics.h"
#include "sfu/ufrag_routes.h"

namespace conclave::sfu {

class MediaWorker final : public TransportHost, public transport::PacketSink, private IceTcpServer::Host {
 public:
  struct Counters {
    std::atomic<uint64_t> datagramsReceived{0};
    std::atomic<uint64_t> datagramsUnrouted{0};
    // RTP/RTCP datagrams dropped before any SRTP work because they had waited in the socket
    // longer than the worker's maximum queue delay (the worker was overloaded). Also counted in
    // datagramsReceived.
    std::atomic<uint64_t> datagramsShed{0};
    std::atomic<uint64_t> datagramsSent{0};
    // sendmmsg messages: fewer than datagramsSent where UDP GSO joins a burst to one subscriber.
    std::atomic<uint64_t> messagesSent{0};
    // ICE-TCP, as of the last batch: open connections, their buffers, and frames not sent.
    std::atomic<uint64_t> tcpConnections{0};
    std::atomic<uint64_t> tcpBufferBytes{0};
    std::atomic<uint64_t> tcpRefused{0};
    std::atomic<uint64_t> tcpFramesDropped{0};
    // For /metrics: UDP bytes in and handed to the socket, and, as of the last tick, the rooms
    // here and their Router::Stats summed (kRouterStatMetrics, closed rooms' included).
    std::atomic<uint64_t> bytesReceived{0};
    std::atomic<uint64_t> bytesSent{0};
    std::atomic<uint64_t> rooms{0};
    std::array<std::atomic<uint64_t>, kRouterStatMetrics.size()> routerStats{};
  };

  // Binds the UDP port, and TCP on the same port number, now (throws std::runtime_error with the
  // reason if it cannot). Port 0: a port number free for both.
  MediaWorker(int index, const std::string& listenAddress, uint16_t port, const dtls::DtlsContext& dtls,
              RouterObserver* observer);
  ~MediaWorker() override;

  void start();
  void stop();

  int index() const { return mIndex; }
  uint16_t port() const { return mSocket.localPort(); }
  // ICE-TCP (worker thread only, except port()).
  uint16_t tcpPort() const { return mTcp.port(); }
  const IceTcpServer& iceTcp() const { return mTcp; }
  const Counters& counters() const { return mCounters; }
  // UDP GSO for bursts to one destination, on by default where the kernel has it. Call before
  // start() (benchmarks compare both).
  bool setSegmentation(bool on) { return mSend.enableSegmentation(on); }
  // How long a received RTP or RTCP datagram may have waited in the socket before the worker
  // drops it unread instead of forwarding it (kMaxQueueDelay in worker.cpp by default; STUN and
  // DTLS are never dropped for their age). Worker thread, or before start().
  void setMaxQueueDelay(common::Duration maxDelay) { mMaxQueueDelay = maxDelay; }
  // The same bound for packets other workers pass through the fan-out rings (Fanout::drain).
  common::Duration maxQueueDelay() const { return mMaxQueueDelay; }
  // Its side of the fan-out across workers (docs/fanout.md); linked to the other workers by
  // sfu::connectWorkers before they start. Worker thread only, except Fanout::ringDoorbell().
  Fanout& fanout() { return mFanout; }

  // Thread-safe: `task` runs on the worker thread.
  void post(std::function<void(MediaWorker&)> task);

  // Worker thread only.
  Router& router(const std::string& roomId);
  void closeRouter(const std::string& roomId);
  Router* findRouter(const std::string& roomId);

  // TransportHost
  transport::PacketSink& sink() override { return *this; }
  const dtls::DtlsContext& dtlsContext() override { return mDtls; }
  void registerTransport(const std::string& localUfrag, transport::WebRtcTransport* transport) override;
  void registerEndpoint(const net::Endpoint& endpoint, transport::WebRtcTransport* transport) override;
  void unregisterEndpoint(const net::Endpoint& endpoint, transport::WebRtcTransport* transport) override;
  // Entries of the 5-tuple routing table (bounded by IceServer::Config::maxPairs per transport).
  size_t routedEndpoints() const { return mByEndpoint.size(); }
  // Entries of the ufrag routing table (at most UfragRoutes::kPerTransport per transport).
  size_t routedUfrags() const { return mByUfrag.size(); }
  void unregisterTransport(transport::WebRtcTransport* transport) override;
  uint64_t nextTransportId() override { return ++mTransportIds; }
  std::optional<common::TimePoint> datagramArrival() const override { return mArrival; }
  std::unique_ptr<transport::MediaTransport> createRemoteTransport(int worker,
                                                                   const transport::WebRtcTransport::Params& params,
                                                                   ProxyTransport::Listener& listener) override;

  // PacketSink
  std::span<uint8_t> slot() override { return mSlot = mSend.slot(); }
  void commit(size_t length, const net::Endpoint& to) override;

  // Processes one datagram as if it arrived on the socket (the loop uses it; so do benchmarks).
  void dispatch(std::span<uint8_t> datagram, const net::Endpoint& from, common::TimePoint now);
  void flush();

 private:
  void onReadable();
  // True (and counted) if `datagram` is RTP or RTCP that arrived longer than mMaxQueueDelay ago.
  bool shed(std::span<const uint8_t> datagram, common::TimePoint arrival);
  void onTick();
  // Counters::rooms and routerStats, from the routers here and those closed before.
  void publishRouterStats();
  transport::WebRtcTransport* route(std::span<const uint8_t> datagram, const net::Endpoint& from);
  // IceTcpServer::Host
  transport::WebRtcTransport* transportForCheck(std::span<const uint8_t> frame) override;

  int mIndex;
  const dtls::DtlsContext& mDtls;
  RouterObserver* mObserver;
  net::EventLoop mLoop;
  net::UdpSocket mSocket;
  net::ReceiveBatch mReceive;
  net::SendBatch mSend;
  std::span<uint8_t> mSlot;  // the last slot() handed out, which commit() sends
  // The kernel's receive time of the UDP datagram being dispatched (none for ICE-TCP and tasks).
  std::optional<common::TimePoint> mArrival;
  common::Duration mMaxQueueDelay;
  uint64_t mShed = 0;  // datagrams shed (worker thread; Counters::datagramsShed is its copy)
  uint64_t mShedLogged = 0;
  common::TimePoint mShedLoggedAt{};
  IceTcpServer mTcp;
  UfragRoutes mByUfrag;
  std::unordered_map<net::Endpoint, transport::WebRtcTransport*> mByEndpoint;
  // Before the routers: a router's proxies give their handles back to it when they go.
  Fanout mFanout{*this};
  std::map<std::string, std::unique_ptr<Router>> mRouters;
  uint64_t mTransportIds = 0;
  uint64_t mBytesCommitted = 0;  // since the last flush
  std::array<uint64_t, kRouterStatMetrics.size()> mClosedRouterStats{};
  std::thread mThread;
  Counters mCounters;
};

}  // namespace conclave::sfu
