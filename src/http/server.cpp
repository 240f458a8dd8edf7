#include "http/server.h"

#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "http/http_session.h"
#include "http/ws_session.h"

namespace conclave::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kFirstAcceptBackoff{50};
constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};
constexpr std::chrono::seconds kAcceptWarningInterval{10};

// Errors that say the process or the system is out of something: retrying at once would spin.
bool isResourceExhaustion(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec.value() == ENFILE;
}

}  // namespace

Server::Server(asio::io_context& io, asio::ssl::context& tls, signaling::RoomManager& rooms, ServerSettings settings)
    : mIo(io),
      mTls(tls),
      mRooms(rooms),
      mSettings(std::move(settings)),
      mAcceptor(io),
      mSources(mSettings.perSource),
      mAcceptRetry(io),
      mClientDigest(mSettings.webRoot, std::chrono::seconds(10)) {}

Server::~Server() = default;

void Server::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(mSettings.listen, ec);
  if (ec) throw std::runtime_error("listen: \"" + mSettings.listen + "\" is not an IP address");
  tcp::endpoint endpoint(address, mSettings.port);
  mAcceptor.open(endpoint.protocol(), ec);
  if (!ec) mAcceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) mAcceptor.bind(endpoint, ec);
  if (!ec) mAcceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + mSettings.listen + ":" + std::to_string(mSettings.port) + ": " +
                             ec.message());
  mPort = mAcceptor.local_endpoint().port();
  mStartedAt = std::chrono::steady_clock::now();
  accept();
}

void Server::accept() {
  mAcceptor.async_accept(mIo,
                         [this](boost::system::error_code ec, tcp::socket socket) { onAccept(ec, std::move(socket)); });
}

void Server::onAccept(boost::system::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == asio::error::operation_aborted || mShuttingDown || !mAcceptor.is_open()) return;
    if (isResourceExhaustion(ec)) return acceptLater(ec);
    common::logger("http")->debug("accept failed: {}", ec.message());
    return accept();
  }
  mAcceptBackoff = std::chrono::milliseconds(0);
  if (mShuttingDown) return;
  boost::system::error_code peerError;
  auto peer = socket.remote_endpoint(peerError);
  if (peerError) return accept();  // gone already
  net::SourceKey source = net::sourceKeyOf(peer.address());
  if (!mSources.tryOpen(source)) {
    // The address is not logged (log_ips aside): it is the client's business, not the log's.
    common::logger("http")->debug("per-source connection limit reached; refusing {}",
                                  common::logAddress(peer.address().to_string()));
    socket.close(peerError);
    return accept();
  }
  SourceSlot slot(mSources, source);
  if (mConnections >= mSettings.maxConnections && !evictOldestIdle()) {
    common::logger("http")->warn("connection limit ({}) reached and no idle connection to close; refusing a client",
                                 mSettings.maxConnections);
    socket.close(peerError);
    return accept();
  }
  socket.set_option(tcp::no_delay(true), peerError);
  std::make_shared<HttpSession>(*this, std::move(socket), mTls, std::move(slot))->run();
  accept();
}

void Server::acceptLater(const boost::system::error_code& ec) {
  ++mAcceptFailures;
  auto now = std::chrono::steady_clock::now();
  if (now - mLastAcceptWarning >= kAcceptWarningInterval) {
    common::logger("http")->warn("cannot accept connections: {} ({} times since the last warning); backing off",
                                 ec.message(), mAcceptFailures);
    mLastAcceptWarning = now;
    mAcceptFailures = 0;
  }
  // Closing the oldest idle connection frees a descriptor for a client that will do something.
  evictOldestIdle();
  mAcceptBackoff = std::min(kMaxAcceptBackoff, std::max(kFirstAcceptBackoff, mAcceptBackoff * 2));
  mAcceptRetry.expires_after(mAcceptBackoff);
  mAcceptRetry.async_wait([this](boost::system::error_code e) {
    if (!e && !mShuttingDown && mAcceptor.is_open()) accept();
  });
}

void Server::markIdle(Evictable* e) {
  if (e->mIdleSince) return;
  e->mIdleSince = ++mIdleCounter;
  mIdle.emplace(e->mIdleSince, e);
}

void Server::markBusy(Evictable* e) {
  if (!e->mIdleSince) return;
  mIdle.erase(e->mIdleSince);
  e->mIdleSince = 0;
}

bool Server::evictOldestIdle() {
  if (mIdle.empty()) return false;
  Evictable* oldest = mIdle.begin()->second;
  markBusy(oldest);
  oldest->evict();
  return true;
}

void Server::removeWs(WsSession* s) {
  mWsSessions.erase(s);
  if (mShuttingDown && mWsSessions.empty() && mShutdownDone) {
    auto done = std::move(mShutdownDone);
    mShutdownDone = nullptr;
    asio::post(mIo, done);
  }
}

void Server::shutdown(std::function<void()> done) {
  if (mShuttingDown) return;
  mShuttingDown = true;
  boost::system::error_code ignored;
  mAcceptor.close(ignored);
  mAcceptRetry.cancel();
  common::logger("http")->info("shutting down: saying goodbye to {} signaling clients", mWsSessions.size());
  mShutdownDone = std::move(done);
  if (mWsSessions.empty()) {
    auto cb = std::move(mShutdownDone);
    mShutdownDone = nullptr;
    asio::post(mIo, cb);
    return;
  }
  // goAway() may finish a session synchronously, which erases it from the set: iterate a copy.
  std::vector<WsSession*> sessions(mWsSessions.begin(), mWsSessions.end());
  for (auto* s : sessions) s->goAway();
}

}  // namespace conclave::http
