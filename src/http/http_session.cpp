#include "http/http_session.h"

#include <boost/beast/http/file_body.hpp>
#include <boost/beast/websocket.hpp>

#include "common/log.h"
#include "common/version.h"
#include "http/static_files.h"
#include "http/ws_session.h"

namespace conclave::http {

namespace websocket = beast::websocket;

namespace {

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

HttpSession::HttpSession(Server& server, boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls,
                         SourceSlot slot)
    : mServer(server), mSlot(std::move(slot)), mStream(std::move(socket), tls) {
  // OpenSSL's record buffers (~34 KiB) go back between reads and writes: a signaling connection
  // is idle nearly all the time, and a server holds thousands of them.
  SSL_set_mode(mStream.native_handle(), SSL_MODE_RELEASE_BUFFERS);
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
  if (store::FileStore* files = mServer.files()) largest = std::max<uint64_t>(largest, files->maxFileBytes());
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
  if (req.method() == http::verb::put && target.rfind(kFiles, 0) == 0)
    return readUpload(std::string(target.substr(kFiles.size())));
  auto length = mHeaderParser->content_length();
  if (length && *length > mServer.settings().maxBodyBytes) return onRead(http::error::body_limit);
  mParser.emplace(std::move(*mHeaderParser));
  mParser->body_limit(mServer.settings().maxBodyBytes);  // chunked bodies are checked as they come
  http::async_read(mStream, mBuffer, *mParser,
                   [self = shared_from_this()](beast::error_code e, size_t) { self->onRead(e); });
}

void HttpSession::readUpload(const std::string& fileId) {
  const auto& req = mHeaderParser->get();
  store::FileStore* files = mServer.files();
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
  if (auth.rfind(kBearer, 0) != 0 || !length)
    return fail(http::status::unauthorized, "unauthorized", "upload token and length needed");
  auto target = files->openUpload(fileId, auth.substr(kBearer.size()), *length);
  if (!target) {
    if (target.error() == store::FileStore::Error::Io)
      return fail(http::status::internal_server_error, "internal", "cannot store the file");
    bool tooLarge = target.error() == store::FileStore::Error::TooLarge;
    return fail(tooLarge ? http::status::payload_too_large : http::status::forbidden,
                tooLarge ? "too-large" : "forbidden",
                tooLarge ? "the body does not have the reserved size" : "no such upload, or a wrong token");
  }
  // Sealed at rest as it arrives (http/sealed_body.h): one chunk in memory, never the file.
  mUploadParser.emplace(std::move(*mHeaderParser));
  mUploadParser->body_limit(files->maxFileBytes());
  mUploadParser->get().body().writer.emplace(std::move(target).value());
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
  uint64_t written = body.writer && body.writer->complete() ? body.writer->written() : 0;
  body.writer.reset();
  store::FileStore* files = mServer.files();
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
  store::FileStore* files = mServer.files();
  if (!files) return send(errorResponse(req, http::status::not_found, "not-found", "no such file"));
  auto reader = files->openDownload(std::string(fileId));
  // The first chunk (a small file: all of it) is checked before the header goes out, so that a
  // damaged file gets a clear error; a later damaged chunk cuts the download off (sealed_body.h).
  auto damaged = reader ? reader->checkAhead() : std::nullopt;
  if (!reader || damaged) {
    auto error = reader ? (*damaged == store::SealError::Damaged ? store::FileStore::Error::Damaged
                                                                 : store::FileStore::Error::Io)
                        : reader.error();
    if (error == store::FileStore::Error::NotFound)
      return send(errorResponse(req, http::status::not_found, "not-found", "no such file"));
    common::logger("files")->warn("a stored file cannot be served: {}", error == store::FileStore::Error::Damaged
                                                                            ? "damaged or altered on disk"
                                                                            : "read error");
    return send(errorResponse(req, http::status::internal_server_error, "file-damaged",
                              "the stored file is damaged and cannot be served; ask for it to be shared again"));
  }
  SealedBody::value_type body;
  body.size = reader->size();
  body.reader = std::make_shared<store::SealedReader>(std::move(reader).value());
  http::response<SealedBody> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                 std::make_tuple(http::status::ok, req.version())};
  res.set(http::field::content_type, "application/octet-stream");
  res.set(http::field::cache_control, "no-store");
  res.content_length(res.body().size);
  res.keep_alive(req.keep_alive());
  send(std::move(res));
}

void HttpSession::onRead(beast::error_code ec) {
  if (ec == http::error::end_of_stream) return close();
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    http::request<http::string_body> dummy;
    auto res = errorResponse(dummy,
                             ec == http::error::header_limit ? http::status::request_header_fields_too_large
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
    auto uptime =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - mServer.startedAt());
    return send(jsonResponse(req, http::status::ok,
                             {{"status", "ok"},
                              {"version", kVersion},
                              {"uptimeSeconds", uptime.count()},
                              {"rooms", mServer.rooms().roomCount()}}));
  }
  if (path == "/api/privacy") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use GET"));
    return send(jsonResponse(req, http::status::ok, mServer.settings().privacyNotice));
  }
  if (path == "/api/receipt-key") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use GET"));
    return send(jsonResponse(req, http::status::ok, mServer.settings().receiptKey));
  }
  if (path == "/api/client-hash") return sendClientHash();
  if (AccountApi::handles(path)) {
    AccountApi* accounts = mServer.accounts();
    if (!accounts) return send(errorResponse(req, http::status::not_found, "not-found", "accounts are off"));
    // The answer may come later (a password hash runs off this thread); `self` keeps us alive.
    return accounts->handle(apiRequest(), [self = shared_from_this()](const ApiResponse& r) { self->sendApi(r); });
  }
  if (path == "/api/rooms") {
    if (req.method() != http::verb::post)
      return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use POST"));
    if (!mServer.allowCreation(mSlot.key())) {
      auto res = errorResponse(req, http::status::too_many_requests, "rate-limited",
                               "too many meetings started from this network; try again in a few seconds");
      res.set(http::field::retry_after, "2");
      return send(std::move(res));
    }
    if (AccountApi* accounts = mServer.accounts()) {
      if (auto refusal = accounts->checkCreateMeeting(apiRequest())) return sendApi(*refusal);
    }
    return createRoom();
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

// The hash of the web client this server serves, computed from the files (docs/security.md,
// "Verifying the client"); 503 while there is no client to hash.
void HttpSession::sendClientHash() {
  const auto& req = mParser->get();
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return send(errorResponse(req, http::status::method_not_allowed, "method-not-allowed", "use GET"));
  auto& cache = mServer.clientDigest();
  const auto& digest = cache.get(std::chrono::steady_clock::now());
  if (!digest) {
    common::logger("http")->warn("no client hash: {}", cache.error());
    return send(errorResponse(req, http::status::service_unavailable, "no-client", "the web client is not built"));
  }
  return send(
      jsonResponse(req, http::status::ok, {{"clientHash", digest->clientHash}, {"files", digest->files.size()}}));
}

ApiRequest HttpSession::apiRequest() const {
  const auto& req = mParser->get();
  std::string_view target(req.target().data(), req.target().size());
  ApiRequest r;
  r.method = req.method();
  r.path = std::string(target.substr(0, target.find('?')));
  r.body = req.body();
  r.cookie = std::string(req[http::field::cookie]);
  r.csrf = std::string(req["X-Conclave-CSRF"]);
  r.origin = std::string(req[http::field::origin]);
  r.host = std::string(req[http::field::host]);
  r.source = mSlot.key();
  return r;
}

void HttpSession::sendApi(const ApiResponse& response) {
  const auto& req = mParser->get();
  auto status = static_cast<http::status>(response.status);
  if (response.body.is_null()) {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    if (!response.setCookie.empty()) res.set(http::field::set_cookie, response.setCookie);
    res.prepare_payload();
    return send(std::move(res));
  }
  auto res = jsonResponse(req, status, response.body);
  if (!response.setCookie.empty()) res.set(http::field::set_cookie, response.setCookie);
  send(std::move(res));
}

// The body, when there is one, holds the meeting's first settings (as `set-settings` takes them),
// so that whoever arrives before the host already meets the lobby or the PIN. A PIN is hashed
// off the I/O thread before the answer goes out.
void HttpSession::createRoom() {
  const auto& req = mParser->get();
  signaling::RoomManager& rooms = mServer.rooms();
  auto roomId = rooms.createRoomId();
  // The creator's browser keeps the host token (never in the invite link).
  nlohmann::json created = {{"roomId", roomId}, {"hostToken", rooms.hostTokens().hostToken(roomId)}};
  if (req.body().find_first_not_of(" \t\r\n") == std::string::npos)
    return send(jsonResponse(req, http::status::created, created));
  auto body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return send(errorResponse(req, http::status::bad_request, "bad-json", "the body is not JSON"));
  if (auto problem = signaling::settingsChangeProblem(body))
    return send(errorResponse(req, http::status::bad_request, "invalid-settings", *problem));
  auto change = signaling::SettingsChange::fromJson(body);
  signaling::MeetingRecord record;
  record.settings = rooms.defaultSettings();
  change.applyTo(record.settings, record.settings.maxParticipants);
  auto store = [self = shared_from_this(), roomId, created](const signaling::MeetingRecord& rec) {
    const auto& request = self->mParser->get();
    if (!self->mServer.rooms().meetingStore().put(roomId, rec, std::chrono::system_clock::now()))
      return self->send(errorResponse(request, http::status::service_unavailable, "busy",
                                      "the server cannot take more meetings with settings now"));
    self->send(jsonResponse(request, http::status::created, created));
  };
  if (!change.pin || change.pin->empty()) return store(record);
  rooms.pinHasher().hash(*change.pin, [self = shared_from_this(), store, record](const std::string& hash) mutable {
    // Never a meeting without the PIN its creator asked for.
    if (hash.empty())
      return self->send(errorResponse(self->mParser->get(), http::status::service_unavailable, "busy",
                                      "the server is busy; try again in a moment"));
    record.pinHash = hash;
    store(record);
  });
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

}  // namespace conclave::http
