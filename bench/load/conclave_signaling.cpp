#include "load/conclave_signaling.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <functional>

#include "common/random.h"
#include "load/json_channel.h"

namespace conclave::bench::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
constexpr auto kPingInterval = std::chrono::seconds(25);  // as the web client pings

std::string hostPort(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

net::Endpoint toEndpoint(const tcp::endpoint& e) {
  return net::Endpoint::fromSockaddr(e.data(), static_cast<socklen_t>(e.size())).value_or(net::Endpoint());
}

class ConclaveServer;

class ConclaveSession final : public SignalingSession {
 public:
  ConclaveSession(ConclaveServer& server, int index, Listener& listener);
  void start() override;
  void publish(const std::string& offer, const std::vector<PublishedTrack>& tracks) override;
  void answerSubscribe(const std::string& answer) override;
  void showVideos(const std::vector<std::string>& mids, int width, int height) override;
  void close() override;

 private:
  using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  void connect();
  void onConnected(const beast::error_code& ec);
  void onTlsHandshake(const beast::error_code& ec);
  void onWsHandshake(const beast::error_code& ec);
  void send(json message);
  void onMessage(const json& m);
  void schedulePing();
  void fail(const std::string& what);

  ConclaveServer& mServer;
  int mIndex;
  Listener& mListener;
  std::unique_ptr<Stream> mWs;
  bool mOpen = false;
  bool mDone = false;
  JsonChannel<Stream> mChannel{[this](const json& m) {
                                 if (m.is_object() && m.contains("type") && m["type"].is_string()) onMessage(m);
                               },
                               [this](const std::string& what) { fail(what); }, mDone};
  bool mHoldsSlot = false;
  int64_t mNextId = 1;
  asio::steady_timer mPing;
  net::Endpoint mLocal;
};

class ConclaveServer final : public SignalingServer {
 public:
  ConclaveServer(asio::io_context& io, ConclaveOptions options)
      : mIo(io), mOptions(std::move(options)), mTls(ssl::context::tls_client) {
    mTls.set_verify_mode(ssl::verify_none);
    mEndpoint = tcp::endpoint(asio::ip::make_address(mOptions.host), mOptions.port);
  }

  std::string name() const override { return "conclave"; }

  // Synchronous, on the signaling thread before any session starts: one request.
  void createMeeting(std::function<void(const std::string& error)> done) override {
    try {
      asio::io_context io;
      beast::ssl_stream<beast::tcp_stream> stream(io, mTls);
      beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
      beast::get_lowest_layer(stream).connect(mEndpoint);
      stream.handshake(ssl::stream_base::client);
      http::request<http::string_body> req{http::verb::post, "/api/rooms", 11};
      req.set(http::field::host, origin().substr(8));
      req.set(http::field::content_type, "application/json");
      req.body() = "{}";
      req.prepare_payload();
      http::write(stream, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      if (res.result() != http::status::created) {
        done("POST /api/rooms: HTTP " + std::to_string(res.result_int()) + " " + res.body());
        return;
      }
      mRoomId = json::parse(res.body()).at("roomId").get<std::string>();
      beast::error_code ignored;
      stream.shutdown(ignored);
      done("");
    } catch (const std::exception& e) {
      done(std::string("POST /api/rooms: ") + e.what());
    }
  }

  std::unique_ptr<SignalingSession> session(int index, SignalingSession::Listener& listener) override {
    return std::make_unique<ConclaveSession>(*this, index, listener);
  }

  // Runs `go` once fewer than maxConnecting sessions are connecting.
  void whenConnectSlot(std::function<void()> go) {
    if (mConnecting < mOptions.maxConnecting) {
      ++mConnecting;
      go();
    } else {
      mWaiting.push_back(std::move(go));
    }
  }
  void releaseConnectSlot() {
    if (!mWaiting.empty()) {
      auto next = std::move(mWaiting.front());
      mWaiting.pop_front();
      asio::post(mIo, std::move(next));  // the slot passes on
      return;
    }
    --mConnecting;
  }

  asio::io_context& io() { return mIo; }
  ssl::context& tls() { return mTls; }
  const tcp::endpoint& endpoint() const { return mEndpoint; }
  const std::string& roomId() const { return mRoomId; }
  std::string origin() const { return "https://" + hostPort(mOptions.host, mOptions.port); }
  bool hostIsName() const {
    beast::error_code ec;
    asio::ip::make_address(mOptions.host, ec);
    return static_cast<bool>(ec);
  }
  const std::string& host() const { return mOptions.host; }
  // The local address for session `index` (empty: any).
  std::string sourceFor(int index) const {
    if (mOptions.sources.empty()) return {};
    return mOptions.sources[static_cast<size_t>(index) % mOptions.sources.size()];
  }

 private:
  asio::io_context& mIo;
  ConclaveOptions mOptions;
  ssl::context mTls;
  tcp::endpoint mEndpoint;
  std::string mRoomId;
  size_t mConnecting = 0;
  std::deque<std::function<void()>> mWaiting;
};

ConclaveSession::ConclaveSession(ConclaveServer& server, int index, Listener& listener)
    : mServer(server), mIndex(index), mListener(listener), mPing(server.io()) {}

void ConclaveSession::start() {
  mServer.whenConnectSlot([this] {
    mHoldsSlot = true;
    connect();
  });
}

void ConclaveSession::connect() {
  mWs = std::make_unique<Stream>(mServer.io(), mServer.tls());
  auto& tcpStream = beast::get_lowest_layer(*mWs);
  tcpStream.expires_after(kHandshakeTimeout);
  const std::string source = mServer.sourceFor(mIndex);
  if (!source.empty()) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(source, ec);
    tcpStream.socket().open(mServer.endpoint().protocol(), ec);
    if (!ec) tcpStream.socket().bind(tcp::endpoint(address, 0), ec);
    if (ec) return fail("cannot bind to " + source + ": " + ec.message());
  }
  tcpStream.async_connect(mServer.endpoint(), [this](const beast::error_code& ec) { onConnected(ec); });
}

void ConclaveSession::onConnected(const beast::error_code& ec) {
  if (ec) return fail("connect: " + ec.message());
  mLocal = toEndpoint(beast::get_lowest_layer(*mWs).socket().local_endpoint());
  if (mServer.hostIsName()) SSL_set_tlsext_host_name(mWs->next_layer().native_handle(), mServer.host().c_str());
  mWs->next_layer().async_handshake(ssl::stream_base::client,
                                    [this](const beast::error_code& e) { onTlsHandshake(e); });
}

void ConclaveSession::onTlsHandshake(const beast::error_code& ec) {
  if (ec) return fail("TLS handshake: " + ec.message());
  beast::get_lowest_layer(*mWs).expires_never();
  mWs->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  const std::string origin = mServer.origin();
  mWs->set_option(websocket::stream_base::decorator(
      [origin](websocket::request_type& req) { req.set(http::field::origin, origin); }));
  mWs->async_handshake(origin.substr(8), "/ws", [this](const beast::error_code& e) { onWsHandshake(e); });
}

void ConclaveSession::onWsHandshake(const beast::error_code& ec) {
  if (ec) return fail("WebSocket handshake: " + ec.message());
  mHoldsSlot = false;
  mServer.releaseConnectSlot();
  mOpen = true;
  mWs->text(true);
  send({{"type", "hello"}, {"version", 1}, {"client", "conclave-load"}});
  mChannel.open(*mWs);
  schedulePing();
}

void ConclaveSession::send(json message) {
  message["id"] = mNextId++;
  mChannel.send(message.dump());
}

void ConclaveSession::onMessage(const json& m) {
  const std::string type = m["type"].get<std::string>();
  if (type == "welcome") {
    // An opaque profile the size of the web client's sealed envelope (keys, proof, encrypted
    // name, signature): the server relays it to everyone in participant-joined.
    send({{"type", "join"}, {"roomId", mServer.roomId()}, {"profile", common::randomToken(300)}});
  } else if (type == "joined") {
    mListener.onJoined(m.value("participantId", ""), mLocal);
  } else if (type == "publish-answer") {
    mListener.onPublishAnswer(m.value("sdp", ""));
  } else if (type == "subscribe-offer") {
    std::vector<OfferedTrack> tracks;
    for (const auto& t : m.value("tracks", json::array()))
      tracks.push_back({t.value("mid", ""), t.value("kind", ""), t.value("participantId", "")});
    mListener.onSubscribeOffer(m.value("sdp", ""), tracks);
  } else if (type == "error") {
    mListener.onProblem("error " + m.value("code", "?") + ": " + m.value("message", ""), false);
  } else if (type == "media-failed") {
    mListener.onProblem("media-failed on " + m.value("connection", "?"), false);
  } else if (type == "goodbye") {
    mListener.onProblem("goodbye: " + m.value("reason", "?"), true);
    mDone = true;
  }
  // Everything else (participant-joined/-left, subscribe-ok, pong, settings, role, ...) needs
  // nothing from a load session.
}

void ConclaveSession::schedulePing() {
  mPing.expires_after(kPingInterval);
  mPing.async_wait([this](const beast::error_code& ec) {
    if (ec || mDone) return;
    send({{"type", "ping"}});
    schedulePing();
  });
}

void ConclaveSession::publish(const std::string& offer, const std::vector<PublishedTrack>& tracks) {
  json list = json::array();
  for (const auto& t : tracks) list.push_back({{"mid", t.mid}, {"source", t.source}});
  send({{"type", "publish"}, {"sdp", offer}, {"tracks", list}});
}

void ConclaveSession::answerSubscribe(const std::string& answer) {
  send({{"type", "subscribe-answer"}, {"sdp", answer}});
}

void ConclaveSession::showVideos(const std::vector<std::string>& mids, int width, int height) {
  // At most 64 entries per message (protocol.cpp, kMaxVideoPreferences).
  for (size_t first = 0; first < mids.size(); first += 64) {
    json list = json::array();
    for (size_t i = first; i < std::min(mids.size(), first + 64); ++i)
      list.push_back({{"mid", mids[i]}, {"width", width}, {"height", height}});
    send({{"type", "video-preferences"}, {"preferences", list}});
  }
}

void ConclaveSession::close() {
  if (mDone) return;
  mDone = true;
  mPing.cancel();
  if (!mOpen) return;
  mWs->async_close(websocket::close_code::normal, [](const beast::error_code&) {});
}

void ConclaveSession::fail(const std::string& what) {
  if (mHoldsSlot) {
    mHoldsSlot = false;
    mServer.releaseConnectSlot();
  }
  if (mDone) return;
  mDone = true;
  mOpen = false;
  mPing.cancel();
  mListener.onProblem(what, true);
}

}  // namespace

std::unique_ptr<SignalingServer> makeConclaveServer(boost::asio::io_context& io, const ConclaveOptions& options) {
  return std::make_unique<ConclaveServer>(io, options);
}

}  // namespace conclave::bench::load
