#include "sfu/ice_tcp.h"

#include <cerrno>

#include "common/log.h"
#include "ice/stun.h"

namespace conclave::sfu {
namespace {

// Reads per readable event and connection (up to 8 x 4 KiB), so a flood on one connection
// returns to the loop (level-triggered: the rest is read on the next round).
constexpr int kMaxReadRounds = 8;
// Connections accepted per readable event of the listener.
constexpr int kMaxAccepts = 64;
// How often tick() looks for connections past their handshake timeout.
constexpr common::Duration kSweepInterval = std::chrono::milliseconds(500);

net::SourceKey sourceKeyOf(const net::Endpoint& endpoint) {
  auto bytes = endpoint.addressBytes();
  if (endpoint.isV4()) {
    boost::asio::ip::address_v4::bytes_type v4{};
    std::copy(bytes.begin(), bytes.end(), v4.begin());
    return net::sourceKeyOf(boost::asio::ip::address_v4(v4));
  }
  boost::asio::ip::address_v6::bytes_type v6{};
  std::copy(bytes.begin(), bytes.end(), v6.begin());
  return net::sourceKeyOf(boost::asio::ip::address_v6(v6));
}

}  // namespace

struct IceTcpServer::Connection {
  Connection(int fd, const net::Endpoint& peer, uint64_t connectionId, const net::SourceKey& key, const Config& config,
             common::TimePoint now)
      : id(connectionId),
        stream(fd, peer),
        source(key),
        path(peer.overConnection(connectionId)),
        reader(config.maxFrame),
        writer(config.handshakeQueueBytes),
        acceptedAt(now) {}

  uint64_t id;
  net::TcpStream stream;
  net::SourceKey source;
  net::Endpoint path;  // the peer's address tagged with `id`: what the transport sees
  net::FrameReader reader;
  net::FrameWriter writer;
  transport::WebRtcTransport* transport = nullptr;  // set by the first accepted Binding request
  common::TimePoint acceptedAt;
  bool dirty = false;  // listed in mDirty
  bool closed = false;
};

IceTcpServer::IceTcpServer(net::EventLoop& loop, const std::string& address, uint16_t port, Host& host, Config config)
    : mLoop(loop), mHost(host), mConfig(config), mListener(address, port) {
  mDirty.reserve(mConfig.maxConnections);
  mClosed.reserve(mConfig.maxConnections);
}

IceTcpServer::~IceTcpServer() = default;

void IceTcpServer::start() {
  mLoop.watch(mListener.fd(), [this] { onAcceptable(); });
}

IceTcpServer::Connection* IceTcpServer::find(uint64_t id) {
  auto it = mConnections.find(id);
  return it == mConnections.end() || it->second->closed ? nullptr : it->second.get();
}

void IceTcpServer::onAcceptable() {
  for (int i = 0; i < kMaxAccepts; ++i) {
    auto accepted = mListener.accept(mConfig.kernelSendBuffer);
    if (!accepted) {
      if (!mAcceptPaused && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        mAcceptPaused = true;
        // The pending connection stays in the backlog and the listener readable: pause.
        // (Unwatched from a timer, not from inside the listener's own callback.)
        common::logger("ice")->warn("ICE-TCP: out of descriptors, accepting again in 1 s");
        mLoop.setTimer(mLoop.now(), [this] {
          mLoop.unwatch(mListener.fd());
          mLoop.setTimer(mLoop.now() + kAcceptPause, [this] {
            mAcceptPaused = false;
            start();
          });
        });
      }
      return;
    }
    auto [fd, peer] = *accepted;
    const net::SourceKey key = sourceKeyOf(peer);
    auto perSource = mPerSource.find(key);
    const size_t live = mConnections.size() - mClosed.size();
    if ((perSource != mPerSource.end() && perSource->second >= mConfig.maxPerSource) ||
        (live >= mConfig.maxConnections && !evictOldestHandshake())) {
      ++mStats.refused;
      net::TcpStream refused(fd, peer);  // closes it
      continue;
    }
    const uint64_t id = ++mNextId;
    auto connection = std::make_unique<Connection>(fd, peer, id, key, mConfig, std::chrono::steady_clock::now());
    mBufferBytes += connection->reader.capacity() + connection->writer.capacity();
    ++mPerSource[key];
    ++mStats.accepted;
    mLoop.watch(
        fd, [this, id] { onReadable(id); }, [this, id] { onWritable(id); });
    mConnections.emplace(id, std::move(connection));
  }
}

bool IceTcpServer::evictOldestHandshake() {
  Connection* oldest = nullptr;
  for (auto& [id, c] : mConnections) {
    if (!c->closed && c->transport == nullptr && (oldest == nullptr || c->acceptedAt < oldest->acceptedAt))
      oldest = c.get();
  }
  if (oldest == nullptr) return false;
  close(*oldest, CloseReason::Evicted);
  return true;
}

void IceTcpServer::onReadable(uint64_t id) {
  Connection* c = find(id);
  if (c == nullptr) return;
  mReading = id;
  for (int round = 0; round < kMaxReadRounds && !c->closed; ++round) {
    auto space = c->reader.space();
    auto io = c->stream.read(space);
    if (io.status == net::TcpStream::Io::WouldBlock) break;
    if (io.status == net::TcpStream::Io::Closed) {
      close(*c, CloseReason::ByPeer);
      break;
    }
    c->reader.commit(io.bytes);
    const auto now = std::chrono::steady_clock::now();
    std::span<uint8_t> frame;
    while (!c->closed) {
      auto status = c->reader.next(frame);
      if (status == net::FrameReader::Status::NeedMore) break;
      if (status == net::FrameReader::Status::TooLarge) {
        close(*c, CloseReason::TooLarge);
        break;
      }
      deliver(*c, frame, now);
    }
    if (io.bytes < space.size()) break;  // drained
  }
  mReading = 0;
}

void IceTcpServer::deliver(Connection& c, std::span<uint8_t> frame, common::TimePoint now) {
  ++mStats.framesReceived;
  if (c.transport != nullptr) {
    c.transport->receive(frame, c.path, now);
    return;
  }
  // The first frame ties the connection to a transport, or ends it.
  auto* transport = ice::isStun(frame) ? mHost.transportForCheck(frame) : nullptr;
  if (transport == nullptr) {
    close(c, CloseReason::Unrouted);
    return;
  }
  c.transport = transport;
  transport->receive(frame, c.path, now);
  if (c.closed) return;  // the transport closed during its receive
  if (!transport->ice().isValidated(c.path)) {
    close(c, CloseReason::Unrouted);
    return;
  }
  const size_t before = c.writer.capacity();
  if (c.writer.reserve(mConfig.queueBytes)) mBufferBytes = mBufferBytes - before + c.writer.capacity();
}

bool IceTcpServer::send(const net::Endpoint& path, std::span<const uint8_t> frame) {
  Connection* c = find(path.connection());
  if (c == nullptr || !c->writer.push(frame)) {
    ++mStats.framesDropped;
    return false;
  }
  ++mStats.framesQueued;
  if (!c->dirty) {
    c->dirty = true;
    mDirty.push_back(c->id);
  }
  return true;
}

void IceTcpServer::writeOut(Connection& c) {
  while (!c.writer.empty()) {
    auto pending = c.writer.pending();
    auto io = c.stream.write(pending);
    if (io.status == net::TcpStream::Io::Closed) {
      close(c, CloseReason::ByPeer);
      return;
    }
    if (io.status == net::TcpStream::Io::WouldBlock) break;
    c.writer.consume(io.bytes);
    if (io.bytes < pending.size()) break;  // the kernel buffer is full
  }
  // Wait for the kernel to take the rest, or stop waiting.
  mLoop.writeWanted(c.stream.fd(), !c.writer.empty());
}

void IceTcpServer::onWritable(uint64_t id) {
  if (Connection* c = find(id)) writeOut(*c);
}

void IceTcpServer::flush() {
  for (uint64_t id : mDirty) {
    if (Connection* c = find(id)) {
      c->dirty = false;
      writeOut(*c);
    }
  }
  mDirty.clear();
  // Destroy what was closed, except a connection whose frames are still being delivered.
  size_t kept = 0;
  for (uint64_t id : mClosed) {
    if (id == mReading) {
      mClosed[kept++] = id;
      continue;
    }
    auto it = mConnections.find(id);
    if (it == mConnections.end()) continue;
    Connection& c = *it->second;
    mLoop.unwatch(c.stream.fd());
    mBufferBytes -= c.reader.capacity() + c.writer.capacity();
    auto perSource = mPerSource.find(c.source);
    if (perSource != mPerSource.end() && --perSource->second == 0) mPerSource.erase(perSource);
    mConnections.erase(it);
  }
  mClosed.resize(kept);
}

void IceTcpServer::tick(common::TimePoint now) {
  if (now < mNextSweep) return;
  mNextSweep = now + kSweepInterval;
  for (auto& [id, c] : mConnections) {
    if (!c->closed && c->transport == nullptr && now - c->acceptedAt >= mConfig.handshakeTimeout)
      close(*c, CloseReason::Timeout);
  }
}

void IceTcpServer::closePath(const net::Endpoint& path, const transport::WebRtcTransport* transport) {
  Connection* c = find(path.connection());
  if (c != nullptr && c->transport == transport) close(*c, CloseReason::ByServer);
}

void IceTcpServer::closeTransport(const transport::WebRtcTransport* transport) {
  for (auto& [id, c] : mConnections)
    if (!c->closed && c->transport == transport) close(*c, CloseReason::ByServer);
}

void IceTcpServer::close(Connection& c, CloseReason reason) {
  if (c.closed) return;
  c.closed = true;
  c.transport = nullptr;
  switch (reason) {
    case CloseReason::Timeout:
      ++mStats.closedTimeout;
      break;
    case CloseReason::Unrouted:
      ++mStats.closedUnrouted;
      break;
    case CloseReason::TooLarge:
      ++mStats.closedTooLarge;
      break;
    case CloseReason::ByPeer:
      ++mStats.closedByPeer;
      break;
    case CloseReason::ByServer:
      ++mStats.closedByServer;
      break;
    case CloseReason::Evicted:
      ++mStats.evicted;
      break;
  }
  mClosed.push_back(c.id);
}

}  // namespace conclave::sfu
