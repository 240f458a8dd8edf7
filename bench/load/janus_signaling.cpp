#include "load/janus_signaling.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <set>
#include <unordered_map>

#include "common/random.h"
#include "load/json_channel.h"

namespace conclave::bench::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr auto kConnectTimeout = std::chrono::seconds(30);
constexpr auto kKeepaliveInterval = std::chrono::seconds(25);
constexpr const char* kSubprotocol = "janus-protocol";
constexpr const char* kPlugin = "janus.plugin.videoroom";

net::Endpoint toEndpoint(const tcp::endpoint& e) {
  return net::Endpoint::fromSockaddr(e.data(), static_cast<socklen_t>(e.size())).value_or(net::Endpoint());
}

void askForSubprotocol(websocket::stream<beast::tcp_stream>& ws) {
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(http::field::sec_websocket_protocol, kSubprotocol); }));
}

// Janus's ids are integers up to 2^53; the participant ids of signaling.h are strings.
std::string idText(const json& id) { return id.is_number_unsigned() ? std::to_string(id.get<uint64_t>()) : id.dump(); }

// The plugin's data of an event or a synchronous answer (null if none).
const json& pluginData(const json& m) {
  static const json kNone;
  const auto pd = m.find("plugindata");
  if (pd == m.end() || !pd->is_object()) return kNone;
  const auto data = pd->find("data");
  return data != pd->end() && data->is_object() ? *data : kNone;
}

std::string errorOf(const json& m) {
  if (const json& data = pluginData(m); data.is_object() && data.contains("error"))
    return "videoroom error " + data.value("error_code", json(0)).dump() + ": " + data.value("error", "");
  if (const auto e = m.find("error"); e != m.end() && e->is_object())
    return "janus error " + e->value("code", json(0)).dump() + ": " + e->value("reason", "");
  return {};
}

class JanusServer;

class JanusSession final : public SignalingSession {
 public:
  JanusSession(JanusServer& server, int index, Listener& listener);
  void start() override;
  void publish(const std::string& offer, const std::vector<PublishedTrack>& tracks) override;
  void answerSubscribe(const std::string& answer) override;
  void showVideos(const std::vector<std::string>& mids, int width, int height) override;
  void close() override;

 private:
  using Reply = std::function<void(const json&)>;

  void onConnected(const beast::error_code& ec);
  void onWsHandshake(const beast::error_code& ec);
  // A request: `m` gets the session id and a transaction; `reply` (if any) gets the "success"
  // answer (an "error" answer ends the session).
  void request(json m, Reply reply = nullptr);
  void message(uint64_t handle, json body, json jsep = nullptr);
  void onJanusMessage(const json& m);
  void onMessage(const json& m);
  void onPublisherEvent(const json& data, const json& m);
  void onSubscriberEvent(const json& data, const json& m);
  void addFeeds(const json& publishers);
  void subscribePending();
  void scheduleKeepalive();
  void fail(const std::string& what);

  JanusServer& mServer;
  int mIndex;
  Listener& mListener;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> mWs;
  bool mOpen = false;
  bool mDone = false;
  JsonChannel<websocket::stream<beast::tcp_stream>> mChannel{[this](const json& m) { onJanusMessage(m); },
                                                             [this](const std::string& what) { fail(what); }, mDone};
  uint64_t mNextTransaction = 1;
  std::unordered_map<std::string, Reply> mReplies;  // by transaction
  asio::steady_timer mKeepalive;
  net::Endpoint mLocal;
  uint64_t mSession = 0, mPublisher = 0, mSubscriber = 0;
  std::set<std::string> mFeeds;     // publishers subscribed to (asked for)
  std::vector<json> mPending;       // publishers to subscribe to once the subscriber can
  bool mSubscriberJoining = false;  // the join (ptype subscriber) went out
  bool mSubscriberJoined = false;   // ... and Janus attached it
};

class JanusServer final : public SignalingServer {
 public:
  JanusServer(asio::io_context& io, JanusOptions options) : mIo(io), mOptions(std::move(options)) {
    mEndpoint = tcp::endpoint(asio::ip::make_address(mOptions.host), mOptions.port);
  }

  std::string name() const override { return "janus"; }

  // Synchronous, on the signaling thread before any session starts: a session of its own makes
  // the room and ends (the room outlives it).
  void createMeeting(std::function<void(const std::string& error)> done) override {
    try {
      asio::io_context io;
      websocket::stream<beast::tcp_stream> ws(io);
      beast::get_lowest_layer(ws).expires_after(kConnectTimeout);
      beast::get_lowest_layer(ws).connect(mEndpoint);
      askForSubprotocol(ws);
      ws.handshake(hostPort(), "/");
      ws.text(true);
      int transaction = 0;
      // Sends `m` and returns the answer to it (acks and unsolicited events are skipped).
      auto call = [&](json m) {
        const std::string t = "meeting-" + std::to_string(++transaction);
        m["transaction"] = t;
        ws.write(asio::buffer(m.dump()));
        for (;;) {
          beast::flat_buffer buffer;
          ws.read(buffer);
          json answer = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
          if (answer.is_object() && answer.value("transaction", "") == t && answer.value("janus", "") != "ack")
            return answer;
        }
      };
      const json session = call({{"janus", "create"}});
      if (session.value("janus", "") != "success") return done("create: " + session.dump());
      const uint64_t sessionId = session.at("data").at("id").get<uint64_t>();
      const json handle = call({{"janus", "attach"}, {"session_id", sessionId}, {"plugin", kPlugin}});
      if (handle.value("janus", "") != "success") return done("attach: " + handle.dump());
      mRoom = 1 + common::randomU64() % 0x7FFFFFFF;
      const json body = {{"request", "create"},    {"room", mRoom},        {"publishers", mOptions.maxPublishers},
                         {"videocodec", "vp8"},    {"audiocodec", "opus"}, {"fir_freq", 10},
                         {"notify_joining", false}};
      const json created = call({{"janus", "message"},
                                 {"session_id", sessionId},
                                 {"handle_id", handle.at("data").at("id").get<uint64_t>()},
                                 {"body", body}});
      if (pluginData(created).value("videoroom", "") != "created") return done("create room: " + created.dump());
      call({{"janus", "destroy"}, {"session_id", sessionId}});
      beast::error_code ignored;
      ws.close(websocket::close_code::normal, ignored);
      done("");
    } catch (const std::exception& e) {
      done(std::string("Janus at ") + hostPort() + ": " + e.what());
    }
  }

  std::unique_ptr<SignalingSession> session(int index, SignalingSession::Listener& listener) override {
    return std::make_unique<JanusSession>(*this, index, listener);
  }

  asio::io_context& io() { return mIo; }
  const tcp::endpoint& endpoint() const { return mEndpoint; }
  uint64_t room() const { return mRoom; }
  std::string hostPort() const {
    const bool v6 = mOptions.host.find(':') != std::string::npos;
    return (v6 ? "[" + mOptions.host + "]" : mOptions.host) + ":" + std::to_string(mOptions.port);
  }

 private:
  asio::io_context& mIo;
  JanusOptions mOptions;
  tcp::endpoint mEndpoint;
  uint64_t mRoom = 0;
};

JanusSession::JanusSession(JanusServer& server, int index, Listener& listener)
    : mServer(server), mIndex(index), mListener(listener), mKeepalive(server.io()) {}

void JanusSession::start() {
  mWs = std::make_unique<websocket::stream<beast::tcp_stream>>(mServer.io());
  beast::get_lowest_layer(*mWs).expires_after(kConnectTimeout);
  beast::get_lowest_layer(*mWs).async_connect(mServer.endpoint(),
                                              [this](const beast::error_code& ec) { onConnected(ec); });
}

void JanusSession::onConnected(const beast::error_code& ec) {
  if (ec) return fail("connect: " + ec.message());
  mLocal = toEndpoint(beast::get_lowest_layer(*mWs).socket().local_endpoint());
  askForSubprotocol(*mWs);
  mWs->async_handshake(mServer.hostPort(), "/", [this](const beast::error_code& e) { onWsHandshake(e); });
}

void JanusSession::onWsHandshake(const beast::error_code& ec) {
  if (ec) return fail("WebSocket handshake: " + ec.message());
  beast::get_lowest_layer(*mWs).expires_never();
  mWs->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  mWs->text(true);
  mOpen = true;
  mChannel.open(*mWs);
  // Session, then the two handles, then the publisher handle joins.
  request({{"janus", "create"}}, [this](const json& created) {
    mSession = created.at("data").at("id").get<uint64_t>();
    scheduleKeepalive();
    request({{"janus", "attach"}, {"plugin", kPlugin}}, [this](const json& publisher) {
      mPublisher = publisher.at("data").at("id").get<uint64_t>();
      request({{"janus", "attach"}, {"plugin", kPlugin}}, [this](const json& subscriber) {
        mSubscriber = subscriber.at("data").at("id").get<uint64_t>();
        message(mPublisher, {{"request", "join"},
                             {"ptype", "publisher"},
                             {"room", mServer.room()},
                             {"display", "load-" + std::to_string(mIndex)}});
      });
    });
  });
}

void JanusSession::request(json m, Reply reply) {
  if (mDone) return;
  const std::string transaction = std::to_string(mNextTransaction++);
  m["transaction"] = transaction;
  if (mSession != 0) m["session_id"] = mSession;
  if (reply) mReplies.emplace(transaction, std::move(reply));
  mChannel.send(m.dump());
}

void JanusSession::message(uint64_t handle, json body, json jsep) {
  json m = {{"janus", "message"}, {"handle_id", handle}, {"body", std::move(body)}};
  if (!jsep.is_null()) m["jsep"] = std::move(jsep);
  request(std::move(m));
}

void JanusSession::onJanusMessage(const json& m) {
  if (!m.is_object() || !m.contains("janus") || !m["janus"].is_string()) return;
  try {
    onMessage(m);
  } catch (const json::exception& e) {  // a field missing or of another type
    fail(std::string("unexpected message from Janus: ") + e.what());
  }
}

void JanusSession::onMessage(const json& m) {
  const std::string kind = m["janus"].get<std::string>();
  if (kind == "success" || kind == "error") {
    const auto reply = mReplies.find(m.value("transaction", ""));
    if (kind == "error") return fail(errorOf(m));
    if (reply == mReplies.end()) return;
    Reply handler = std::move(reply->second);
    mReplies.erase(reply);
    handler(m);
  } else if (kind == "event") {
    const json& data = pluginData(m);
    if (!data.is_object()) return;
    if (data.contains("error")) return mListener.onProblem(errorOf(m), false);
    const uint64_t sender = m.value("sender", uint64_t{0});
    if (sender == mPublisher) onPublisherEvent(data, m);
    else if (sender == mSubscriber) onSubscriberEvent(data, m);
  } else if (kind == "hangup") {
    mListener.onProblem("hangup: " + m.value("reason", "?"), false);
  } else if (kind == "timeout" || kind == "detached") {
    fail("Janus ended the session (" + kind + ")");
  }
  // ack, keepalive answers, webrtcup, media, slowlink: nothing to do for a load session.
}

void JanusSession::onPublisherEvent(const json& data, const json& m) {
  const std::string what = data.value("videoroom", "");
  if (what == "joined") {
    mListener.onJoined(idText(data.at("id")), mLocal);
    if (const auto p = data.find("publishers"); p != data.end()) addFeeds(*p);
    return;
  }
  if (what != "event") return;
  if (const auto p = data.find("publishers"); p != data.end()) addFeeds(*p);
  if (const auto jsep = m.find("jsep"); jsep != m.end() && jsep->value("type", "") == "answer")
    mListener.onPublishAnswer(jsep->value("sdp", ""));
}

void JanusSession::onSubscriberEvent(const json& data, const json& m) {
  const std::string what = data.value("videoroom", "");
  if (what == "attached") mSubscriberJoined = true;
  const auto jsep = m.find("jsep");
  if ((what == "attached" || what == "updated") && jsep != m.end() && jsep->value("type", "") == "offer") {
    std::vector<OfferedTrack> tracks;
    for (const auto& s : data.value("streams", json::array()))
      if (s.contains("feed_id")) tracks.push_back({s.value("mid", ""), s.value("type", ""), idText(s["feed_id"])});
    mListener.onSubscribeOffer(jsep->value("sdp", ""), tracks);
  }
  if (what == "attached") subscribePending();
}

// `publishers`: [{id, streams, ...}] from the publisher handle's events.
void JanusSession::addFeeds(const json& publishers) {
  if (!publishers.is_array()) return;
  for (const auto& p : publishers) {
    if (!p.is_object() || !p.contains("id")) continue;
    if (!mFeeds.insert(idText(p["id"])).second) continue;
    mPending.push_back({{"feed", p["id"]}});
  }
  subscribePending();
}

// The first publishers go into the subscriber's join, later ones into "subscribe" requests
// (Janus holds back a new offer until the last one is answered, and merges them).
void JanusSession::subscribePending() {
  if (mPending.empty() || mSubscriber == 0 || (mSubscriberJoining && !mSubscriberJoined)) return;
  json streams(std::move(mPending));
  mPending.clear();
  if (!mSubscriberJoining) {
    mSubscriberJoining = true;
    message(mSubscriber,
            {{"request", "join"}, {"ptype", "subscriber"}, {"room", mServer.room()}, {"streams", streams}});
  } else {
    message(mSubscriber, {{"request", "subscribe"}, {"streams", streams}});
  }
}

void JanusSession::publish(const std::string& offer, const std::vector<PublishedTrack>& /*tracks*/) {
  // Our simulcast rids are listed from the lowest layer up (session_sdp.h).
  message(mPublisher, {{"request", "publish"}},
          {{"type", "offer"}, {"sdp", offer}, {"trickle", false}, {"rid_order", "lmh"}});
}

void JanusSession::answerSubscribe(const std::string& answer) {
  message(mSubscriber, {{"request", "start"}}, {{"type", "answer"}, {"sdp", answer}, {"trickle", false}});
}

void JanusSession::showVideos(const std::vector<std::string>& mids, int width, int /*height*/) {
  const int substream = width <= 320 ? 0 : width <= 640 ? 1 : 2;
  json streams = json::array();
  for (const auto& mid : mids) streams.push_back({{"mid", mid}, {"substream", substream}});
  if (!streams.empty()) message(mSubscriber, {{"request", "configure"}, {"streams", streams}});
}

void JanusSession::scheduleKeepalive() {
  mKeepalive.expires_after(kKeepaliveInterval);
  mKeepalive.async_wait([this](const beast::error_code& ec) {
    if (ec || mDone) return;
    request({{"janus", "keepalive"}});
    scheduleKeepalive();
  });
}

void JanusSession::close() {
  if (mDone) return;
  mDone = true;
  mKeepalive.cancel();
  if (!mOpen) return;
  // Janus ends the sessions of a WebSocket that closes.
  mWs->async_close(websocket::close_code::normal, [](const beast::error_code&) {});
}

void JanusSession::fail(const std::string& what) {
  if (mDone) return;
  mDone = true;
  mOpen = false;
  mKeepalive.cancel();
  mListener.onProblem(what, true);
}

}  // namespace

bool parseJanusUrl(const std::string& url, JanusOptions& options) {
  constexpr std::string_view kScheme = "ws://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 >= rest.size()) return false;
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port = rest.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) return false;
  const int value = std::stoi(port);
  if (value < 1 || value > 65535) return false;
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) return false;
  options.host = host;
  options.port = uint16_t(value);
  return true;
}

std::unique_ptr<SignalingServer> makeJanusServer(boost::asio::io_context& io, const JanusOptions& options) {
  return std::make_unique<JanusServer>(io, options);
}

}  // namespace conclave::bench::load
