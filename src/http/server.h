// The HTTPS + WebSocket front of Conclave: accepts TLS connections, serves the web client and the
// small HTTP API, and upgrades /ws to signaling. Runs on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>

#include "http/client_manifest.h"
#include "http/creation_limiter.h"
#include "http/source_table.h"
#include "signaling/connection.h"
#include "signaling/rooms.h"
#include "store/file_store.h"

namespace conclave::http {

struct ServerSettings {
  std::string listen = "0.0.0.0";
  uint16_t port = 8443;
  std::filesystem::path webRoot;
  std::chrono::seconds httpTimeout{30};
  // A TLS handshake must finish in this time.
  std::chrono::seconds handshakeTimeout{10};
  // A WebSocket that is in no room is closed after this long.
  std::chrono::seconds wsJoinTimeout{30};
  size_t maxConnections = 2000;
  SourceTable::Limits perSource;
  size_t maxHeaderBytes = 8 * 1024;
  size_t maxBodyBytes = 64 * 1024;
  size_t maxFrameBytes = 1024 * 1024;
  signaling::ConnectionLimits connection;
  // What GET /api/privacy answers: the privacy notice generated from the configuration.
  nlohmann::json privacyNotice = nlohmann::json::object();
  // What GET /api/receipt-key answers: the public key privacy receipts are signed with.
  nlohmann::json receiptKey = nlohmann::json::object();
};

class WsSession;
class AccountApi;

// A connection the server may close when it is out of slots: one that does nothing useful yet
// (a TLS handshake, an HTTP connection waiting for a request, a WebSocket in no room). The
// oldest goes first, so a flood of idle connections cannot lock out a new client (or /healthz).
class Evictable {
 public:
  virtual void evict() = 0;

 protected:
  virtual ~Evictable() = default;
  bool isIdle() const { return mIdleSince != 0; }

 private:
  friend class Server;
  uint64_t mIdleSince = 0;  // position in the server's idle list; 0 while busy
};

class Server {
 public:
  Server(boost::asio::io_context& io, boost::asio::ssl::context& tls, signaling::RoomManager& rooms,
         ServerSettings settings);
  ~Server();

  // Binds and starts accepting; throws std::runtime_error if the address cannot be bound.
  void start();
  // Stops accepting, says goodbye to every signaling client and closes them; `done` runs when
  // all are closed or after a short timeout.
  void shutdown(std::function<void()> done);

  uint16_t port() const { return mPort; }
  const ServerSettings& settings() const { return mSettings; }
  signaling::RoomManager& rooms() { return mRooms; }
  store::FileStore* files() { return mRooms.files(); }
  // The accounts API (null: /api/account answers 404 and anyone may start meetings).
  void setAccounts(AccountApi* accounts) { mAccounts = accounts; }
  AccountApi* accounts() { return mAccounts; }
  // Whether `source` may start another meeting now (POST /api/rooms).
  bool allowCreation(const SourceKey& source) { return mCreations.allow(source, std::chrono::steady_clock::now()); }
  std::chrono::steady_clock::time_point startedAt() const { return mStartedAt; }
  // The client hash of the files served now (GET /api/client-hash).
  ClientDigestCache& clientDigest() { return mClientDigest; }
  bool shuttingDown() const { return mShuttingDown; }

  // Connection accounting, used by the sessions.
  void addWs(WsSession* s) { mWsSessions.insert(s); }
  void removeWs(WsSession* s);
  void connectionOpened() { ++mConnections; }
  void connectionClosed() { --mConnections; }
  void markIdle(Evictable* e);
  void markBusy(Evictable* e);
  size_t connectionCount() const { return mConnections; }

 private:
  void accept();
  void onAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void acceptLater(const boost::system::error_code& ec);
  bool evictOldestIdle();

  boost::asio::io_context& mIo;
  boost::asio::ssl::context& mTls;
  signaling::RoomManager& mRooms;
  ServerSettings mSettings;
  boost::asio::ip::tcp::acceptor mAcceptor;
  uint16_t mPort = 0;
  std::chrono::steady_clock::time_point mStartedAt;
  size_t mConnections = 0;
  SourceTable mSources;
  CreationLimiter mCreations{CreationLimiter::Limits{}};
  std::map<uint64_t, Evictable*> mIdle;
  uint64_t mIdleCounter = 0;
  // Out of file descriptors: accepting is retried after a growing pause, logged once a while.
  boost::asio::steady_timer mAcceptRetry;
  std::chrono::milliseconds mAcceptBackoff{0};
  std::chrono::steady_clock::time_point mLastAcceptWarning{};
  size_t mAcceptFailures = 0;
  bool mShuttingDown = false;
  std::unordered_set<WsSession*> mWsSessions;
  std::function<void()> mShutdownDone;
  AccountApi* mAccounts = nullptr;
  ClientDigestCache mClientDigest;
};

}  // namespace conclave::http
