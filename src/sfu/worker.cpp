#include "sfu/worker.h"

#include <pthread.h>

#include "common/log.h"
#include "ice/demux.h"
#include "ice/stun.h"

namespace conclave::sfu {
namespace {
// Router timers: pending keyframe requests (Producer::kKeyframeInterval, 500 ms) and receiver
// reports (1 s) fire within 50 ms of their time; ICE and DTLS need a tick every few hundred ms.
constexpr common::Duration kTickInterval = std::chrono::milliseconds(50);
// Datagrams per recvmmsg: one system call per 32 datagrams under load, for 32 x 2 KiB buffers
// allocated once.
constexpr size_t kReceiveBatch = 32;
// Datagrams per sendmmsg: each received packet can fan out to many subscribers, so the send
// batch is larger than the receive batch (it flushes early when full). Large enough that a
// received batch's packets for one subscriber mostly leave in one flush, where UDP GSO sends
// them as one message (256 x 2 KiB buffers, allocated once).
constexpr size_t kSendBatch = 256;
// Receive batches handled per readable event (up to 256 datagrams) before the loop returns to
// timers and posted tasks, so a flood on the socket cannot starve the control plane's tasks.
constexpr int kMaxReceiveRounds = 8;
// An RTP or RTCP datagram that waited in the socket longer than this is dropped unread. The
// worker falls behind only when it is overloaded (a fan-out beyond its core, or a host whose CPUs
// are busy elsewhere); the socket buffer (net/udp_socket.cpp, MiBs) then holds seconds of media,
// and every packet forwarded from it is as late as the queue is long. Conversation suffers beyond
// ~150 ms one way (ITU-T G.114) and a browser's jitter buffer holds tens of ms, so a packet already
// 250 ms old here is worth little to its subscribers, yet forwarding it costs as much (SRTP for
// each of them) as a fresh one and delays every packet behind it. Dropped before any SRTP work it
// costs a clock read, the worker catches up with the present, and what it forwards stays within
// this bound. The loss shows in the subscribers' and the publishers' feedback (the publishers'
// estimators lower their rates) and in Counters::datagramsShed. Not lower: on a busy host a
// worker thread can wait tens of ms for a CPU without being behind.
constexpr common::Duration kMaxQueueDelay = std::chrono::milliseconds(250);
// At most one warning per this interval while packets are shed.
constexpr common::Duration kShedLogInterval = std::chrono::seconds(10);
}  // namespace

MediaWorker::MediaWorker(int index, const std::string& listenAddress, uint16_t port, const dtls::DtlsContext& dtls,
                         RouterObserver* observer)
    : mIndex(index),
      mDtls(dtls),
      mObserver(observer),
      mSocket(listenAddress, port != 0 ? port : net::freeUdpAndTcpPort(listenAddress)),
      mReceive(kReceiveBatch),
      mSend(mSocket, kSendBatch),
      mMaxQueueDelay(kMaxQueueDelay),
      mTcp(mLoop, listenAddress, mSocket.localPort(), *this) {
  // Per-datagram arrival times for transport-cc feedback; without them a batch shares one time.
  if (!mSocket.enableReceiveTimestamps()) common::logger("sfu")->warn("worker {}: no kernel receive timestamps", index);
  if (!mSend.enableSegmentation(true)) common::logger("sfu")->info("worker {}: no UDP GSO in this kernel", index);
}

MediaWorker::~MediaWorker() { stop(); }

void MediaWorker::start() {
  mLoop.watch(mSocket.fd(), [this] { onReadable(); });
  // Another worker wrote into a ring this one reads: the batch's end (flush) drains it.
  mLoop.watch(mFanout.doorbellFd(), [this] { mFanout.clearDoorbell(); });
  mTcp.start();
  mLoop.setTimer(std::chrono::steady_clock::now() + kTickInterval, [this] { onTick(); });
  mThread = std::thread([this] {
    // "media-N" in top -H, perf and /proc/PID/task/*/comm (15 characters at most).
    const std::string name = "media-" + std::to_string(mIndex);
    ::pthread_setname_np(::pthread_self(), name.c_str());
    mLoop.run([this] { flush(); });
    // Routers (and their transports) are destroyed on the worker thread, and so are the
    // transports hosted for other workers' rooms.
    mRouters.clear();
    mFanout.clear();
  });
}

void MediaWorker::stop() {
  if (!mThread.joinable()) return;
  mLoop.stop();
  mThread.join();
}

void MediaWorker::post(std::function<void(MediaWorker&)> task) {
  mLoop.post([this, task = std::move(task)] {
    task(*this);
    flush();
  });
}

Router& MediaWorker::router(const std::string& roomId) {
  auto& r = mRouters[roomId];
  if (!r) r = std::make_unique<Router>(*this, mObserver);
  return *r;
}

Router* MediaWorker::findRouter(const std::string& roomId) {
  auto it = mRouters.find(roomId);
  return it == mRouters.end() ? nullptr : it->second.get();
}

void MediaWorker::closeRouter(const std::string& roomId) {
  auto it = mRouters.find(roomId);
  if (it == mRouters.end()) return;
  for (size_t i = 0; i < kRouterStatMetrics.size(); ++i)
    mClosedRouterStats[i] += it->second->stats().*kRouterStatMetrics[i].field;
  mRouters.erase(it);
}

void MediaWorker::registerTransport(const std::string& localUfrag, transport::WebRtcTransport* t) {
  mByUfrag.add(localUfrag, t);
}

void MediaWorker::registerEndpoint(const net::Endpoint& endpoint, transport::WebRtcTransport* t) {
  if (endpoint.connection() != 0) return;  // ICE-TCP: its connection is tied to the transport already
  // try_emplace: an address stays with the transport that has it until that one forgets it.
  mByEndpoint.try_emplace(endpoint, t);
}

void MediaWorker::unregisterEndpoint(const net::Endpoint& endpoint, transport::WebRtcTransport* t) {
  if (endpoint.connection() != 0) {
    mTcp.closePath(endpoint, t);
    return;
  }
  auto it = mByEndpoint.find(endpoint);
  if (it != mByEndpoint.end() && it->second == t) mByEndpoint.erase(it);
}

void MediaWorker::unregisterTransport(transport::WebRtcTransport* t) {
  mByUfrag.remove(t);
  std::erase_if(mByEndpoint, [t](const auto& e) { return e.second == t; });
  mTcp.closeTransport(t);
}

std::unique_ptr<transport::MediaTransport> MediaWorker::createRemoteTransport(
    int worker, const transport::WebRtcTransport::Params& params, ProxyTransport::Listener& listener) {
  if (worker == mIndex) return nullptr;
  return mFanout.createProxy(worker, params, listener);
}

void MediaWorker::commit(size_t length, const net::Endpoint& to) {
  if (to.connection() != 0) {
    // ICE-TCP: the transport wrote into the UDP slot; the bytes are copied into the connection's
    // queue and the slot is left for the next datagram.
    mTcp.send(to, mSlot.first(std::min(length, mSlot.size())));
    return;
  }
  mBytesCommitted += length;
  mSend.commit(length, to);
}

transport::WebRtcTransport* MediaWorker::transportForCheck(std::span<const uint8_t> frame) {
  // STUN finds its transport by the local half of USERNAME ("serverUfrag:clientUfrag").
  auto msg = ice::StunMessage::parse(frame);
  if (!msg || msg->messageClass() != ice::StunClass::Request) return nullptr;
  auto user = msg->username();
  if (!user) return nullptr;
  return mByUfrag.find(user->substr(0, user->find(':')));
}

transport::WebRtcTransport* MediaWorker::route(std::span<const uint8_t> datagram, const net::Endpoint& from) {
  if (ice::isStun(datagram)) {
    // STUN finds its transport by the local half of USERNAME ("serverUfrag:clientUfrag").
    auto msg = ice::StunMessage::parse(datagram);
    if (msg) {
      if (auto user = msg->username()) {
        if (auto* t = mByUfrag.find(user->substr(0, user->find(':')))) return t;
      }
    }
  }
  auto it = mByEndpoint.find(from);
  return it == mByEndpoint.end() ? nullptr : it->second;
}

void MediaWorker::dispatch(std::span<uint8_t> datagram, const net::Endpoint& from, common::TimePoint now) {
  mCounters.datagramsReceived.fetch_add(1, std::memory_order_relaxed);
  mCounters.bytesReceived.fetch_add(datagram.size(), std::memory_order_relaxed);
  if (auto* t = route(datagram, from)) {
    t->receive(datagram, from, now);
  } else {
    mCounters.datagramsUnrouted.fetch_add(1, std::memory_order_relaxed);
  }
}

void MediaWorker::flush() {
  // What other workers wrote for transports hosted here joins this batch; the subscribers' RTCP
  // they returned reaches the routers here.
  mFanout.drain();
  mSend.flush();
  // The batch's own count: it includes what slot() flushed early when the batch was full.
  mCounters.datagramsSent.store(mSend.sentCount(), std::memory_order_relaxed);
  mCounters.messagesSent.store(mSend.messageCount(), std::memory_order_relaxed);
  mCounters.bytesSent.fetch_add(mBytesCommitted, std::memory_order_relaxed);
  mBytesCommitted = 0;
  mTcp.flush();
  mCounters.tcpConnections.store(mTcp.connectionCount(), std::memory_order_relaxed);
  mCounters.tcpBufferBytes.store(mTcp.bufferBytes(), std::memory_order_relaxed);
  mCounters.tcpRefused.store(mTcp.stats().refused, std::memory_order_relaxed);
  mCounters.tcpFramesDropped.store(mTcp.stats().framesDropped, std::memory_order_relaxed);
  // Records this batch wrote for other workers: wake them.
  mFanout.wakePeers();
}

bool MediaWorker::shed(std::span<const uint8_t> datagram, common::TimePoint arrival) {
  // STUN and DTLS are few and never late enough to matter: consent checks must be answered (or
  // browsers close the connection) and a handshake must finish, whatever the load.
  if (ice::classifyPacket(datagram) != ice::PacketKind::RtpRtcp) return false;
  // The clock is read for each datagram, not once per batch: under overload one batch's fan-out
  // takes tens of ms, and the age that matters is the one the packet would leave with.
  if (std::chrono::steady_clock::now() - arrival <= mMaxQueueDelay) return false;
  mCounters.datagramsReceived.fetch_add(1, std::memory_order_relaxed);
  mCounters.bytesReceived.fetch_add(datagram.size(), std::memory_order_relaxed);
  mCounters.datagramsShed.store(++mShed, std::memory_order_relaxed);
  return true;
}

void MediaWorker::onReadable() {
  // Drain the socket in batches; sends collected meanwhile go out in one sendmmsg per batch.
  for (int round = 0; round < kMaxReceiveRounds; ++round) {
    size_t n = mReceive.receive(mSocket);
    if (n == 0) break;
    auto now = std::chrono::steady_clock::now();
    mFanout.setBatchTime(now);  // what this round writes for other workers carries its time
    for (size_t i = 0; i < n; ++i) {
      if (shed(mReceive.data(i), mReceive.arrival(i))) continue;
      mArrival = mReceive.arrival(i);
      dispatch(mReceive.data(i), mReceive.from(i), now);
    }
    mArrival.reset();
    flush();
    if (n < kReceiveBatch) break;  // the socket is drained
  }
}

void MediaWorker::onTick() {
  auto now = std::chrono::steady_clock::now();
  mFanout.setBatchTime(now);
  for (auto& [id, router] : mRouters) router->tick(now);
  mFanout.tick(now);
  mTcp.tick(now);
  publishRouterStats();
  if (mShed != mShedLogged && now - mShedLoggedAt >= kShedLogInterval) {
    common::logger("sfu")->warn("worker {}: overloaded, dropped {} RTP/RTCP packets that waited over {} ms", mIndex,
                                mShed - mShedLogged,
                                std::chrono::duration_cast<std::chrono::milliseconds>(mMaxQueueDelay).count());
    mShedLogged = mShed;
    mShedLoggedAt = now;
  }
  mLoop.setTimer(now + kTickInterval, [this] { onTick(); });
}

void MediaWorker::publishRouterStats() {
  mCounters.rooms.store(mRouters.size(), std::memory_order_relaxed);
  for (size_t i = 0; i < kRouterStatMetrics.size(); ++i) {
    uint64_t sum = mClosedRouterStats[i];
    for (const auto& [id, router] : mRouters) sum += router->stats().*kRouterStatMetrics[i].field;
    mCounters.routerStats[i].store(sum, std::memory_order_relaxed);
  }
}

}  // namespace conclave::sfu
