// One HTTPS connection (HttpSession) and, after an upgrade on /ws, one signaling WebSocket
// (WsSession). Both live on the server's io_context thread and own themselves through
// shared_from_this while an operation is pending.
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <optional>

#include "signaling/connection.h"
#include "signaling/server.h"

namespace conclave::signaling {

namespace beast = boost::beast;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class HttpSession : public std::enable_shared_from_this<HttpSession>, private Evictable {
 public:
  HttpSession(Server& server, boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls, SourceSlot slot);
  ~HttpSession();
  void run();

 private:
  void onHandshake(beast::error_code ec);
  void readRequest();
  void onHeader(beast::error_code ec);
  void onRead(beast::error_code ec);
  void readUpload(const std::string& fileId);
  void readUploadBody(const std::string& fileId);
  void finishUpload(const std::string& fileId, beast::error_code ec);
  void serveDownload(std::string_view fileId);
  void handleRequest();
  template <typename Response>
  void send(Response&& response);
  template <typename R, typename S>
  void writeSome(std::shared_ptr<R> res, std::shared_ptr<S> serializer);
  void close();
  void evict() override;

  Server& mServer;
  SourceSlot mSlot;
  TlsStream mStream;
  beast::flat_buffer mBuffer;
  std::optional<beast::http::request_parser<beast::http::empty_body>> mHeaderParser;
  std::optional<beast::http::request_parser<beast::http::string_body>> mParser;
  std::optional<beast::http::request_parser<beast::http::file_body>> mUploadParser;
};

class WsSession : public std::enable_shared_from_this<WsSession>, private Peer, private Evictable {
 public:
  WsSession(Server& server, TlsStream stream, SourceSlot slot);
  ~WsSession() override;

  void accept(beast::http::request<beast::http::string_body> request);
  // Tells the client the server is going away (goodbye + close 1001).
  void goAway();

 private:
  void send(const nlohmann::json& message) override;
  void sendText(std::shared_ptr<const std::string> text) override;
  size_t queuedBytes() const override { return mOutboxBytes; }
  void read();
  // Reads the next message now, or after the back-pressure the connection asks for.
  void readWhenAllowed();
  void onRead(beast::error_code ec, size_t bytes);
  void flush();
  void closeWith(beast::websocket::close_reason reason, bool dropQueued = false);
  void finish();
  void evict() override;
  // Idle (evictable, and closed after wsJoinTimeout) while in no room.
  void updateIdle();

  Server& mServer;
  SourceSlot mSlot;
  beast::websocket::stream<TlsStream> mWs;
  boost::asio::steady_timer mJoinTimer;
  beast::flat_buffer mBuffer;
  Connection mConnection;
  std::deque<std::shared_ptr<const std::string>> mOutbox;
  boost::asio::steady_timer mReadTimer;
  std::optional<common::TimePoint> mBlockedSince;
  size_t mOutboxBytes = 0;
  bool mWriting = false;
  std::optional<beast::websocket::close_reason> mCloseReason;
  bool mCloseSent = false;
  bool mFinished = false;
};

}  // namespace conclave::signaling
