// /metrics on the real binary (metrics_listen): plain HTTP on its own port, the Prometheus text
// with rooms, participants and each worker's counters, which move with what happens; nothing in it
// names a room or an address; anything but GET /metrics is refused.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>

#include <regex>

#include "server_process.h"

using namespace conclave::testing;
using nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {

// A port free for TCP and UDP on 127.0.0.1 right now (the system's choice, then released).
uint16_t freePort() {
  asio::io_context io;
  for (;;) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto port = acceptor.local_endpoint().port();
    boost::system::error_code ec;
    udp::socket socket(io);
    socket.open(udp::v4());
    socket.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) return port;
  }
}

http::response<http::string_body> plainRequest(uint16_t port, http::verb method, const std::string& target) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> request(method, target, 11);
  request.set(http::field::host, "127.0.0.1");
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return response;
}

// The value of the sample `line` ("name{labels}") in a scrape, or -1 when it is missing.
double sampleValue(const std::string& text, const std::string& line) {
  auto at = text.find("\n" + line + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line.size() + 2));
}

std::string scrape(uint16_t port) {
  auto response = plainRequest(port, http::verb::get, "/metrics");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  return response.body();
}

}  // namespace

TEST(Metrics, ScrapedFromARunningServerTheyCountRoomsParticipantsAndWorkerTraffic) {
  auto metricsPort = freePort();
  auto mediaPort = freePort();
  ServerProcess server(
      {"--metrics-listen", "127.0.0.1:" + std::to_string(metricsPort), "--media-port", std::to_string(mediaPort)});
  auto idle = scrape(metricsPort);
  EXPECT_EQ(sampleValue(idle, "conclave_rooms"), 0);
  EXPECT_EQ(sampleValue(idle, "conclave_participants"), 0);
  EXPECT_EQ(sampleValue(idle, "conclave_media_workers"), 1);
  EXPECT_NE(idle.find("# TYPE conclave_worker_packets_in_total counter\n"), std::string::npos);
  for (const char* name :
       {"conclave_worker_packets_out_total", "conclave_worker_bytes_in_total", "conclave_worker_packets_shed_total",
        "conclave_rtp_forwarded_packets_total", "conclave_retransmitted_packets_total",
        "conclave_keyframe_requests_total", "conclave_rtp_paused_packets_total"})
    EXPECT_GE(sampleValue(idle, std::string(name) + "{worker=\"0\"}"), 0) << name;
  double packetsBefore = sampleValue(idle, "conclave_worker_packets_in_total{worker=\"0\"}");
  double bytesBefore = sampleValue(idle, "conclave_worker_bytes_in_total{worker=\"0\"}");

  // Two participants in a meeting, and 10 datagrams of 100 bytes to the media worker.
  auto created = httpsRequest(server.port(), http::verb::post, "/api/rooms");
  ASSERT_EQ(created.status, 201u);
  std::string roomId = json::parse(created.body)["roomId"];
  WsClient alice(server.port()), bob(server.port());
  alice.hello();
  bob.hello();
  alice.sendJson({{"type", "join"}, {"id", 1}, {"roomId", roomId}, {"profile", "opaque-alice"}});
  alice.readType("joined");
  bob.sendJson({{"type", "join"}, {"id", 2}, {"roomId", roomId}, {"profile", "opaque-bob"}});
  bob.readType("joined");
  asio::io_context io;
  udp::socket sender(io, udp::endpoint(udp::v4(), 0));
  std::string datagram(100, 'x');
  for (int i = 0; i < 10; ++i)
    sender.send_to(asio::buffer(datagram), udp::endpoint(asio::ip::make_address("127.0.0.1"), mediaPort));

  // The worker counts as it receives; give it the time a busy machine needs.
  std::string busy;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    busy = scrape(metricsPort);
    if (sampleValue(busy, "conclave_worker_packets_in_total{worker=\"0\"}") >= packetsBefore + 10) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(sampleValue(busy, "conclave_rooms"), 1);
  EXPECT_EQ(sampleValue(busy, "conclave_participants"), 2);
  EXPECT_EQ(sampleValue(busy, "conclave_worker_packets_in_total{worker=\"0\"}"), packetsBefore + 10);
  EXPECT_EQ(sampleValue(busy, "conclave_worker_bytes_in_total{worker=\"0\"}"), bytesBefore + 1000);
  // Garbage from an unknown source belongs to no transport.
  EXPECT_GE(sampleValue(busy, "conclave_worker_packets_unrouted_total{worker=\"0\"}"), 10);

  // No personal data: no room ID, profile or address; the only label is the worker's number.
  EXPECT_EQ(busy.find(roomId), std::string::npos);
  EXPECT_EQ(busy.find("opaque"), std::string::npos);
  EXPECT_EQ(busy.find("127.0.0.1"), std::string::npos);
  std::smatch match;
  std::string rest = busy;
  while (std::regex_search(rest, match, std::regex(R"(\{([^}]*)\})"))) {
    EXPECT_TRUE(std::regex_match(match[1].str(), std::regex(R"(worker="\d+")"))) << match[1];
    rest = match.suffix();
  }
}

TEST(Metrics, OnlyGetMetricsIsAnsweredAndTheHttpsPortHasNoMetrics) {
  auto metricsPort = freePort();
  ServerProcess server({"--metrics-listen", "127.0.0.1:" + std::to_string(metricsPort)});
  EXPECT_EQ(plainRequest(metricsPort, http::verb::get, "/").result_int(), 404u);
  EXPECT_EQ(plainRequest(metricsPort, http::verb::get, "/metrics/../healthz").result_int(), 404u);
  EXPECT_EQ(plainRequest(metricsPort, http::verb::post, "/metrics").result_int(), 405u);
  EXPECT_EQ(plainRequest(metricsPort, http::verb::delete_, "/metrics").result_int(), 405u);
  EXPECT_EQ(httpsRequest(server.port(), http::verb::get, "/metrics").body.find("conclave_worker"), std::string::npos);
}

// (The answer is a 400 or, when the unread rest of the request resets the connection, nothing.)
TEST(Metrics, AnOversizedRequestIsRefusedAndTheListenerCarriesOn) {
  auto metricsPort = freePort();
  ServerProcess server({"--metrics-listen", "127.0.0.1:" + std::to_string(metricsPort)});
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), metricsPort));
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(8000, 'a') + "\r\n\r\n";
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(request), ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response, ec);
  if (!ec) {
    EXPECT_EQ(response.result_int(), 400u);
  }
  EXPECT_NE(response.result_int(), 200u);
  EXPECT_NE(scrape(metricsPort).find("conclave_rooms 0"), std::string::npos);
}
