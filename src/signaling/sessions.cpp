#include "signaling/sessions.h"

#include <boost/beast/http/file_body.hpp>

#include "common/log.h"
#include "common/version.h"
#include "signaling/http_util.h"

namespace conclave::signaling {

namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

// A client whose queue grows past this is not reading at all: senders wait for slow readers
// (RoomManager::Settings::congestedQueueBytes) long before it is reached.
constexpr size_t kMaxOutboxBytes = 8 * 1024 * 1024;
// Senders wait at most this long for a slow member before they are read again regardless (a
// member that does not read at all then reaches kMaxOutboxBytes and is closed).
constexpr common::Duration kMaxBlocked = std::chrono::seconds(5);
constexpr common::Duration kBlockedPoll = std::chrono::milliseconds(20);

common::TimePoint now() { return std::chrono::steady_clock::now(); }

http::response<http::string_body> jsonResponse(const http::request<http::string_body>& req, http::status status,
                                               const nlohmann::json& body) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = body.dump();
  res.prepare_payload();
  return res;
}

http::response<http::string_body> errorResponse(const http::request<http::string_body>& req, http::status status,
                                                std::string_view code, std::string_view message) {
  return jsonResponse(req, status, {{"error", {{"code", code}, {"message", message}}}});
}

}  // namespace

// ---- HttpSession -------------------------------------------------------------------------------

HttpSession::HttpSession(Server& server, boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls,
                         SourceSlot slot)
    : mServer(server), mSlot(std::move(slot)), mStream(std::move(socket), tls) {
  mServer.connectionOpened();
}

HttpSession::~HttpSession() {
  mServer.markBusy(this);
  mServer.connectionClosed();
}

void HttpSession::run() {
  // Handshakes cost the server far more than the client: a source has only a few at a time.
  if (!mSlot.startHandshake()) {
    common::logger("http")->debug("too many TLS handshakes from one source; closing");
    return;
  }
  mServer.markIdle(this);
  beast::get_lowest_layer(mStream).expires_after(mServer.settings().handshakeTimeout);
  mStream.async_handshake(boost::asio::ssl::stream_base::server,
                          [self = shared_from_this()](beast::error_code ec) { self->onHandshake(ec); });
}

void HttpSession::onHandshake(beast::error_code ec) {
  mSlot.endHandshake();
  if (ec) {
    common::logger("http")->debug("TLS handshake failed: {}", ec.message());
    return;
  }
  readRequest();
}

void HttpSession::evict() {
  common::logger("http")->debug("closing an idle connection to make room");
  beast::get_lowest_layer(mStream).close();
}

void HttpSession::readRequest() {
  mHeaderParser.emplace();
  mHeaderParser->header_limit(static_cast<uint32_t>(mServer.settings().maxHeaderBytes));
  // Beast compares Content-Length with the body limit while it parses the header, so the
  // header parser must allow the largest body of any route; onHeader() applies the route's own.
  uint64_t largest = mServer.settings().maxBodyBytes;
  if (FileStore* files = mServer.files()) largest = std::max<uint64_t>(largest, files->maxFileBytes());
  mHeaderParser->body_limit(largest);
  beast::get_lowest_layer(mStream).expires_after(mServer.settings().httpTimeout);
  mServer.markIdle(this);
  http::async_read_header(mStream, mBuffer, *mHeaderParser,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
}

void HttpSession::onHeader(beast::error_code ec) {
  mServer.markBusy(this);
  if (ec) return onRead(ec);
  // File uploads stream to disk with their own size limit; everything else is small.
  const auto& req = mHeaderParser->get();
  std::string_view target(req.target().data(), req.target().size());
  constexpr std::string_view kFiles = "/api/files/";
  if (req.method() == http::verb::put && target.rfind(kFiles, 0) == 0) return readUpload(std::string(target.substr(kFiles.size())));
  auto length = mHeaderParser->content_length();
  if (length && *length > mServer.settings().maxBodyBytes) return onRead(http::error::body_limit);
  mParser.emplace(std::move(*mHeaderParser));
  mParser->body_limit(mServer.settings().maxBodyBytes);  // chunked bodies are checked as they come
  http::async_read(mStream, mBuffer, *mParser,
                   [self = shared_from_this()](beast::error_code e, size_t) { self->onRead(e); });
}

void HttpSession::readUpload(const std::string& fileId) {
  const auto& req = mHeaderParser->get();
  FileStore* files = mServer.files();
  auto auth = std::string(req[http::field::authorization]);
  constexpr std::string_view kBearer = "Bearer ";
  auto length = mHeaderParser->content_length();
  auto fail = [&](http::status status, std::string_view code, std::string_view message) {
    http::request<http::string_body> head;
    head.version(req.version());
    auto res = errorResponse(head, status, code, message);
    res.keep_alive(false);  // the body was not read
    send(std::move(res));
  };
  if (!files) return fail(http::status::not_found, "not-found", "file sharing is off");
  if (auth.rfind(kBearer, 0) != 0 || !length) return fail(http::status::unauthorized, "unauthorized", "upload token and length needed");
  auto target = files->beginUpload(fileId, auth.substr(kBearer.size()), *length);
  if (auto* error = std::get_if<FileStore::Error>(&target)) {
    bool tooLarge = *error == FileStore::Error::TooLarge;
    return fail(tooLarge ? http::status::payload_too_large : http::status::forbidden, tooLarge ? "too-large" : "forbidden",
                tooLarge ? "the body does not have the reserved size" : "no such upload, or a wrong token");
  }
  mUploadParser.emplace(std::move(*mHeaderParser));
  mUploadParser->body_limit(files->maxFileBytes());
  beast::error_code openError;
  mUploadParser->get().body().open(std::get<std::filesystem::path>(target).c_str(), beast::file_mode::write, openError);
  if (openError) {
    files->completeUpload(fileId, 0);
    return fail(http::status::internal_server_error, "internal", "cannot store the file");
  }
  readUploadBody(fileId);
}

// A large body may take long; what must not happen is a long pause. The timeout is per read,
// so an upload fails only when no byte arrived for `httpTimeout`.
void HttpSession::readUploadBody(const std::string& fileId) {
  if (mUploadParser->is_done()) return finishUpload(fileId, {});
  beast::get_lowest_layer(mStream).expires_after(mServer.settings().httpTimeout);
  http::async_read_some(mStream, mBuffer, *mUploadParser,
                        [self = shared_from_this(), fileId](beast::error_code e, size_t) {
                          if (e) return self->finishUpload(fileId, e);
                          self->readUploadBody(fileId);
                        });
}

void HttpSession::finishUpload(const std::string& fileId, beast::error_code ec) {
  auto& body = mUploadParser->get().body();
  beast::error_code ignored;
  uint64_t written = body.is_open() ? body.file().size(ignored) : 0;
  body.file().close(ignored);
  FileStore* files = mServer.files();
  bool ok = !ec && files && files->completeUpload(fileId, written);
  http::request<http::string_body> head;
  head.version(11);
  if (!ok) {
    if (files) files->completeUpload(fileId, 0);
    auto res = errorResponse(head, http::status::bad_request, "upload-failed", "the upload was incomplete");
    res.keep_alive(false);
    return send(std::move(res));
  }
  auto res = jsonResponse(head, http::status::created, {{"fileId", fileId}});
  res.keep_alive(mUploadParser->get().keep_alive());
  send(std::move(res));
}

void HttpSession::serveDownload(std::string_view fileId) {
  const auto& req = mParser->get();
  FileStore* files = mServer.files();
  auto path = files ? files->download(std::string(fileId)) : std::nullopt;
  if (!path) return send(errorResponse(req, http::status::not_found, "not-found", "no such file"));
  http::file_body::value_type body;
  beast::error_code ec;
  body.open(path->c_str(), beast::file_mode::scan, ec);
  if (ec) return send(errorResponse(req, http::status::not_found, "not-found", "no such file"));
  auto size = body.size();
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                      std::make_tuple(http::status::ok, req.version())};
  res.set(http::field::content_type, "application/octet-stream");
  res.set(http::field::cache_control, "no-store");
  res.content_length(size);
  res.keep_alive(req.keep_alive());
  send(std::move(res));
}

void HttpSession::onRead(beast::error_code ec) {
  if (ec == http::error::end_of_stream) return close();
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    http::request<http::string_body> dummy;
    auto res = errorResponse(dummy, ec == http::error::header_limit ? http::status::request_header_fields_too_large
                                                                     : http::status::payload_too_large,
                             "too-large", "request too large");
    res.keep_alive(false);
    return send(std::move(res));
  }
  if (ec) {
    common::logger("http")->debug("read failed: {}", ec.message());
    return;
  }
  if (websocket::is_upgrade(mParser->get())) {
    const auto& req = mParser->get();
    if (req.target() != "/ws" || mServer.shuttingDown()) {
      return send(errorResponse(req, http::status::not_found, "not-found", "no WebSocket here"));
    }
    // Cross-site WebSocket hijacking: a browser always sends Origin; it must be this server.
    auto origin = req[http::field::origin];
    if (!origin.empty() && std::string(origin) != "https://" + std::string(req[http::field::host])) {
      return send(errorResponse(req, http::status::forbidden, "forbidden-origin", "cross-origin WebSocket refused"));
    }
    beast::get_lowest_layer(mStream).expires_never();
    auto ws = std::make_shared<WsSession>(mServer, std::move(mStream), std::move(mSlot));
    ws->accept(mParser->release());
    return;
  }
  handleRequest();
}

void HttpSession::handleRequest() {
  const auto& req = mParser->get();
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));

  if (path == "/healthz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use GET"));
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                   mServer.startedAt());
    return send(jsonResponse(req, http::status::ok,
                             {{"status", "ok"},
                              {"version", kVersion},
                              {"uptimeSeconds", uptime.count()},
                              {"rooms", mServer.rooms().roomCount()}}));
  }
  if (path == "/api/rooms") {
    if (req.method() != http::verb::post)
      return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use POST"));
    return send(jsonResponse(req, http::status::created, {{"roomId", mServer.rooms().createRoomId()}}));
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use GET"));
  constexpr std::string_view kFiles = "/api/files/";
  if (path.rfind(kFiles, 0) == 0) return serveDownload(path.substr(kFiles.size()));

  auto file = resolveStatic(mServer.settings().webRoot, target);
  if (!file) return send(errorResponse(req, http::status::not_found, "not-found", "no such page"));
  http::file_body::value_type body;
  beast::error_code ec;
  body.open(file->file.c_str(), beast::file_mode::scan, ec);
  if (ec) return send(errorResponse(req, http::status::not_found, "not-found", "no such page"));
  auto size = body.size();
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                      std::make_tuple(http::status::ok, req.version())};
  res.set(http::field::content_type, std::string(mimeType(file->file.string())));
  res.set(http::field::cache_control, file->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.content_length(size);
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::head) {
    http::response<http::empty_body> head{http::status::ok, req.version()};
    head.base() = res.base();
    head.keep_alive(req.keep_alive());
    return send(std::move(head));
  }
  send(std::move(res));
}

template <typename Response>
void HttpSession::send(Response&& response) {
  using R = std::decay_t<Response>;
  auto res = std::make_shared<R>(std::forward<Response>(response));
  setSecurityHeaders(*res);
  if (mServer.shuttingDown()) res->keep_alive(false);
  auto serializer = std::make_shared<http::response_serializer<typename R::body_type, typename R::fields_type>>(*res);
  writeSome(std::move(res), std::move(serializer));
}

// Writes a response piece by piece; like uploads, a download fails only when the client
// stops reading for `httpTimeout`, not when a large file takes longer than that.
template <typename R, typename S>
void HttpSession::writeSome(std::shared_ptr<R> res, std::shared_ptr<S> serializer) {
  beast::get_lowest_layer(mStream).expires_after(mServer.settings().httpTimeout);
  auto& sr = *serializer;
  http::async_write_some(mStream, sr, [self = shared_from_this(), res, serializer](beast::error_code ec, size_t) {
    if (ec) return;
    if (!serializer->is_done()) return self->writeSome(res, serializer);
    if (!res->keep_alive()) return self->close();
    self->readRequest();
  });
}

void HttpSession::close() {
  beast::get_lowest_layer(mStream).expires_after(std::chrono::seconds(5));
  mStream.async_shutdown([self = shared_from_this()](beast::error_code) {
    beast::error_code ignored;
    beast::get_lowest_layer(self->mStream).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  });
}

// ---- WsSession ---------------------------------------------------------------------------------

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
  finish();
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

void WsSession::accept(http::request<http::string_body> request) {
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = std::chrono::seconds(60);
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
    send(errorMessage(ErrorCode::BadJson, "only text frames with JSON are accepted", nullptr));
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
  send({{"type", "goodbye"}, {"reason", "server-shutdown"}});
  closeWith({websocket::close_code::going_away, "server shutting down"});
}

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

void WsSession::closeWith(websocket::close_reason reason, bool dropQueued) {
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

}  // namespace conclave::signaling
