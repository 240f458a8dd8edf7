#include "signaling/server.h"

#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "signaling/sessions.h"

namespace conclave::signaling {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Server::Server(asio::io_context& io, asio::ssl::context& tls, RoomManager& rooms, ServerSettings settings)
    : mIo(io), mTls(tls), mRooms(rooms), mSettings(std::move(settings)), mAcceptor(io) {}

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
  mAcceptor.async_accept(mIo, [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) common::logger("http")->warn("accept failed: {}", ec.message());
      if (!mShuttingDown && mAcceptor.is_open()) accept();
      return;
    }
    if (mShuttingDown) return;
    if (mConnections >= mSettings.maxConnections) {
      common::logger("http")->warn("connection limit reached; refusing a client");
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<HttpSession>(*this, std::move(socket), mTls)->run();
    }
    accept();
  });
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

}  // namespace conclave::signaling
