// One signaling WebSocket, after an upgrade on /ws: frames in, signaling::Connection (the
// protocol) in the middle, an outbox with back-pressure out. Lives on the server's io_context
// thread and owns itself through shared_from_this while an operation is pending.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <optional>

#include "http/server.h"
#include "http/tls_stream.h"
#include "signaling/connection.h"

namespace conclave::http {

class WsSession : public std::enable_shared_from_this<WsSession>, private signaling::Peer, private Evictable {
 public:
  WsSession(Server& server, TlsStream stream, SourceSlot slot);
  ~WsSession() override;

  void accept(const beast::http::request<beast::http::string_body>& request);
  // Tells the client the server is going away (goodbye + close 1001).
  void goAway();

 private:
  void send(const nlohmann::json& message) override;
  void sendText(std::shared_ptr<const std::string> text) override;
  size_t queuedBytes() const override { return mOutboxBytes; }
  void close() override;
  void read();
  // Reads the next message now, or after the back-pressure the connection asks for.
  void readWhenAllowed();
  void onRead(beast::error_code ec, size_t bytes);
  void flush();
  void closeWith(const beast::websocket::close_reason& reason, bool dropQueued = false);
  void finish();
  void evict() override;
  // Idle (evictable, and closed after wsJoinTimeout) while in no room.
  void updateIdle();

  Server& mServer;
  SourceSlot mSlot;
  beast::websocket::stream<TlsStream> mWs;
  boost::asio::steady_timer mJoinTimer;
  beast::flat_buffer mBuffer;
  signaling::Connection mConnection;
  std::deque<std::shared_ptr<const std::string>> mOutbox;
  boost::asio::steady_timer mReadTimer;
  std::optional<common::TimePoint> mBlockedSince;
  size_t mOutboxBytes = 0;
  bool mWriting = false;
  std::optional<beast::websocket::close_reason> mCloseReason;
  bool mCloseSent = false;
  bool mFinished = false;
};

}  // namespace conclave::http
