// The HTTPS + WebSocket front of Conclave: accepts TLS connections, serves the web client and the
// small HTTP API, and upgrades /ws to signaling. Runs on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "signaling/connection.h"
#include "signaling/file_store.h"
#include "signaling/rooms.h"

namespace conclave::signaling {

struct ServerSettings {
  std::string listen = "0.0.0.0";
  uint16_t port = 8443;
  std::filesystem::path webRoot;
  std::chrono::seconds httpTimeout{30};
  size_t maxConnections = 2000;
  size_t maxHeaderBytes = 8 * 1024;
  size_t maxBodyBytes = 64 * 1024;
  size_t maxFrameBytes = 1024 * 1024;
  ConnectionLimits connection;
};

class WsSession;

class Server {
 public:
  Server(boost::asio::io_context& io, boost::asio::ssl::context& tls, RoomManager& rooms, ServerSettings settings);
  ~Server();

  // Binds and starts accepting; throws std::runtime_error if the address cannot be bound.
  void start();
  // Stops accepting, says goodbye to every signaling client and closes them; `done` runs when
  // all are closed or after a short timeout.
  void shutdown(std::function<void()> done);

  uint16_t port() const { return mPort; }
  const ServerSettings& settings() const { return mSettings; }
  RoomManager& rooms() { return mRooms; }
  FileStore* files() { return mRooms.files(); }
  std::chrono::steady_clock::time_point startedAt() const { return mStartedAt; }
  bool shuttingDown() const { return mShuttingDown; }

  // Connection accounting, used by the sessions.
  void addWs(WsSession* s) { mWsSessions.insert(s); }
  void removeWs(WsSession* s);
  void connectionOpened() { ++mConnections; }
  void connectionClosed() { --mConnections; }

 private:
  void accept();

  boost::asio::io_context& mIo;
  boost::asio::ssl::context& mTls;
  RoomManager& mRooms;
  ServerSettings mSettings;
  boost::asio::ip::tcp::acceptor mAcceptor;
  uint16_t mPort = 0;
  std::chrono::steady_clock::time_point mStartedAt;
  size_t mConnections = 0;
  bool mShuttingDown = false;
  std::unordered_set<WsSession*> mWsSessions;
  std::function<void()> mShutdownDone;
};

}  // namespace conclave::signaling
