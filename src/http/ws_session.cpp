#include "http/ws_session.h"

#include "common/log.h"
#include "common/version.h"
#include "http/static_files.h"

namespace conclave::http {

namespace websocket = beast::websocket;

namespace {

// A client whose queue grows past this is not reading at all: senders wait for slow readers
// (signaling::RoomManager::Settings::congestedQueueBytes) long before it is reached.
constexpr size_t kMaxOutboxBytes = 8 * 1024 * 1024;
// Senders wait at most this long for a slow member before they are read again regardless (a
// member that does not read at all then reaches kMaxOutboxBytes and is closed).
constexpr common::Duration kMaxBlocked = std::chrono::seconds(5);
constexpr common::Duration kBlockedPoll = std::chrono::milliseconds(20);

common::TimePoint now() { return std::chrono::steady_clock::now(); }

}  // namespace

WsSession::WsSession(Server& server, TlsStream stream, SourceSlot slot)
    : mServer(server),
      mSlot(std::move(slot)),
      mWs(std::move(stream)),
      mJoinTimer(mWs.get_executor()),
      mConnection(server.rooms(), *this, server.settings().connection, now(), mSlot.key()),
      mReadTimer(mWs.get_executor()) {
  mServer.connectionOpened();
}

WsSession::~WsSession() {
  // Leaving the room allocates (messages to the others); should that fail, this one connection's
  // cleanup is lost, not the server.
  try {
    finish();
  } catch (const std::exception& e) {
    common::logger("ws")->error("closing a WebSocket failed: {}", e.what());
  }
  mServer.markBusy(this);
  mServer.connectionClosed();
}

void WsSession::updateIdle() {
  if (mFinished || mCloseReason) return;
  if (!mConnection.participantId().empty()) {
    mServer.markBusy(this);
    mJoinTimer.cancel();
    return;
  }
  if (isIdle()) return;
  mServer.markIdle(this);
  mJoinTimer.expires_after(mServer.settings().wsJoinTimeout);
  mJoinTimer.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || !self->mConnection.participantId().empty()) return;
    common::logger("ws")->debug("client joined no meeting in time; closed");
    self->closeWith({websocket::close_code::policy_error, "join a meeting or disconnect"});
  });
}

void WsSession::evict() {
  common::logger("ws")->debug("closing a WebSocket in no meeting to make room");
  closeWith({websocket::close_code::try_again_later, "server busy"});
}

void WsSession::accept(const http::request<http::string_body>& request) {
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  // A client whose network went away (it moved to another address and rejoined from there) leaves
  // a ghost in the meeting until this fires: a ping after 10 s of silence, closed at 20 s.
  timeouts.idle_timeout = std::chrono::seconds(20);
  // Also bounds the closing handshake: a client that does not answer a close frame is dropped.
  timeouts.handshake_timeout = std::chrono::seconds(5);
  timeouts.keep_alive_pings = true;
  mWs.set_option(timeouts);
  mWs.set_option(websocket::stream_base::decorator([](websocket::response_type& res) { setSecurityHeaders(res); }));
  mWs.read_message_max(mServer.settings().maxFrameBytes);
  mWs.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      common::logger("ws")->debug("upgrade failed: {}", ec.message());
      return;
    }
    self->mServer.addWs(self.get());
    common::logger("ws")->debug("client connected");
    self->updateIdle();
    self->read();
  });
}

void WsSession::read() {
  mWs.async_read(mBuffer, [self = shared_from_this()](beast::error_code ec, size_t n) { self->onRead(ec, n); });
}

void WsSession::onRead(beast::error_code ec, size_t) {
  if (ec) {
    if (ec == websocket::error::message_too_big) common::logger("ws")->info("client sent an oversized frame; closed");
    else common::logger("ws")->debug("client gone: {}", ec.message());
    return finish();
  }
  if (mCloseReason) return;
  if (!mWs.got_text()) {
    mBuffer.consume(mBuffer.size());
    send(signaling::messages::error(signaling::ErrorCode::BadJson, "only text frames with JSON are accepted", nullptr));
    return read();
  }
  std::string text = beast::buffers_to_string(mBuffer.data());
  mBuffer.consume(mBuffer.size());
  mConnection.onText(text, now());
  updateIdle();
  if (mConnection.mustClose()) {
    common::logger("ws")->info("client flooded; closed");
    return closeWith({websocket::close_code::policy_error, "rate limit exceeded"});
  }
  readWhenAllowed();
}

void WsSession::readWhenAllowed() {
  if (mFinished || mCloseReason) return;
  auto t = now();
  auto delay = mConnection.readDelay(t);
  if (mConnection.relayBlocked()) {
    if (!mBlockedSince) mBlockedSince = t;
    if (t - *mBlockedSince < kMaxBlocked) delay = std::max(delay, kBlockedPoll);
  } else {
    mBlockedSince.reset();
  }
  if (delay <= common::Duration::zero()) return read();
  mReadTimer.expires_after(delay);
  // The pending wait keeps the session alive, as a pending read would.
  mReadTimer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->readWhenAllowed();
  });
}

void WsSession::send(const nlohmann::json& message) {
  if (mFinished || mCloseReason) return;
  sendText(std::make_shared<const std::string>(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

void WsSession::sendText(std::shared_ptr<const std::string> text) {
  if (mFinished || mCloseReason) return;
  if (mOutboxBytes + text->size() > kMaxOutboxBytes) {
    common::logger("ws")->info("client stopped reading; closed");
    return closeWith({websocket::close_code::policy_error, "client too slow"}, true);
  }
  mOutboxBytes += text->size();
  mOutbox.push_back(std::move(text));
  flush();
}

void WsSession::goAway() {
  send(signaling::messages::goodbye());
  closeWith({websocket::close_code::going_away, "server shutting down"});
}

void WsSession::close() { closeWith({websocket::close_code::normal, "goodbye"}); }

void WsSession::flush() {
  if (mWriting || mFinished) return;
  if (mOutbox.empty()) {
    if (mCloseReason && !mCloseSent) {
      mCloseSent = true;
      mWriting = true;
      mWs.async_close(*mCloseReason, [self = shared_from_this()](beast::error_code) { self->finish(); });
    }
    return;
  }
  mWriting = true;
  mWs.text(true);
  mWs.async_write(boost::asio::buffer(*mOutbox.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
    self->mWriting = false;
    self->mOutboxBytes -= self->mOutbox.front()->size();
    self->mOutbox.pop_front();
    if (ec) {
      common::logger("ws")->debug("write failed: {}", ec.message());
      return self->finish();
    }
    self->flush();
  });
}

void WsSession::closeWith(const websocket::close_reason& reason, bool dropQueued) {
  if (mCloseReason || mFinished) return;
  mCloseReason = reason;
  // Queued messages (goodbye, the last error) go out first, then the close frame; a client too
  // slow to read gets only the frame being written.
  if (dropQueued) {
    while (mOutbox.size() > (mWriting ? 1u : 0u)) {
      mOutboxBytes -= mOutbox.back()->size();
      mOutbox.pop_back();
    }
  }
  flush();
}

void WsSession::finish() {
  if (mFinished) return;
  mFinished = true;
  mJoinTimer.cancel();
  mReadTimer.cancel();
  mConnection.onClosed(now());
  mServer.removeWs(this);
}

}  // namespace conclave::http
