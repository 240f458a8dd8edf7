// Interoperability with an independent ICE implementation: a real aioice Connection (full agent,
// controlling; python3-aiortc) runs its checks and nomination against IceServer over a loopback
// UDP socket. tests/ice/aioice_peer.py is the aioice side; it also verifies MESSAGE-INTEGRITY and
// FINGERPRINT of every answer with aioice's own STUN parser. Only 127.0.0.1 is used.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>

#include "ice/demux.h"
#include "ice/ice_server.h"

using namespace conclave::ice;
namespace net = conclave::net;

namespace {

const IceCredentials kLocal{"cnclvSrv", "cnclvServerPassword01234"};
const IceCredentials kRemote{"aioiCli1", "aioiceClientPassword0123"};
constexpr const char* kPython = "/usr/bin/python3";

class Listener : public IceServer::Listener {
 public:
  void onIceSelectedEndpoint(IceServer&, const net::Endpoint& endpoint) override { selected.push_back(endpoint); }
  void onIceDisconnected(IceServer&, IceServer::DisconnectReason) override { ++disconnects; }
  // Our return-path checks go to aioice over the socket; aioice (a full agent) answers them.
  void onIceSendRequest(IceServer&, std::span<const uint8_t> request, const net::Endpoint& to) override {
    sendto(sock, request.data(), request.size(), 0, to.sockaddr(), to.sockaddrLength());
  }
  void onIceEndpointRemoved(IceServer&, const net::Endpoint&) override {}
  std::vector<net::Endpoint> selected;
  int disconnects = 0;
  int sock = -1;
};

conclave::common::TimePoint now() { return std::chrono::steady_clock::now(); }

}  // namespace

TEST(IceInterop, AioiceConnectsToIceLiteServer) {
  if (access(kPython, X_OK) != 0 || std::system("/usr/bin/python3 -c 'import aioice' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 with aioice (python3-aiortc)";
  }
  const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);

  const std::string command =
      std::string(kPython) + " " CONCLAVE_SOURCE_DIR "/tests/ice/aioice_peer.py interop --port " + std::to_string(port);
  FILE* child = popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);

  Listener listener;
  listener.sock = sock;
  IceServer server(listener, kLocal, kRemote, now());
  std::string childOutput;
  std::vector<std::pair<net::Endpoint, std::string>> data;
  const auto deadline = now() + std::chrono::seconds(20);
  bool childDone = false;
  while (!childDone && now() < deadline) {
    pollfd fds[2] = {{sock, POLLIN, 0}, {fileno(child), POLLIN, 0}};
    if (poll(fds, 2, 100) < 0) break;
    if (fds[0].revents & POLLIN) {
      std::array<uint8_t, 1500> buf;
      sockaddr_storage from{};
      socklen_t fromLen = sizeof(from);
      const ssize_t n = recvfrom(sock, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n > 0) {
        auto source = net::Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&from), fromLen);
        ASSERT_TRUE(source);
        std::span<const uint8_t> datagram(buf.data(), static_cast<size_t>(n));
        if (isStun(datagram)) {
          std::array<uint8_t, IceServer::kMaxResponseSize> out;
          auto result = server.handleStun(datagram, *source, now(), out);
          if (!result.response.empty()) {
            sendto(sock, result.response.data(), result.response.size(), 0, source->sockaddr(),
                   source->sockaddrLength());
          }
        } else {
          data.emplace_back(*source, std::string(buf.begin(), buf.begin() + n));
        }
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char text[512];
      const ssize_t n = read(fileno(child), text, sizeof(text));
      if (n <= 0) {
        childDone = true;
      } else {
        childOutput.append(text, static_cast<size_t>(n));
      }
    }
  }
  const int status = pclose(child);
  close(sock);
  ASSERT_TRUE(childDone) << "aioice did not finish in time; output: " << childOutput;
  EXPECT_EQ(status, 0) << childOutput;

  std::printf("aioice: %s", childOutput.c_str());
  // {"connected": true, "local": ["127.0.0.1", 43567], "verified": 2, "failed": 0}
  std::smatch match;
  const std::regex result(R"re("connected": true, "local": \["127\.0\.0\.1", (\d+)\], )re"
                          R"re("verified": (\d+), "failed": (\d+))re");
  ASSERT_TRUE(std::regex_search(childOutput, match, result)) << childOutput;
  const auto aioiceEndpoint = net::Endpoint::v4({127, 0, 0, 1}, static_cast<uint16_t>(std::stoi(match[1].str())));
  EXPECT_GE(std::stoi(match[2].str()), 2) << "answers aioice checked with the server password";
  EXPECT_EQ(std::stoi(match[3].str()), 0) << "answers aioice could not verify";

  ASSERT_EQ(listener.selected.size(), 1u);
  EXPECT_EQ(listener.selected[0], aioiceEndpoint);
  EXPECT_EQ(server.selectedEndpoint(), aioiceEndpoint);
  EXPECT_GE(server.stats().successes, 2u);
  EXPECT_GE(server.stats().checksAnswered, 1u);  // the return path was proven by aioice's answer
  EXPECT_EQ(server.stats().unauthenticated, 0u);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].first, aioiceEndpoint);
  EXPECT_EQ(data[0].second, "hello from aioice");
  EXPECT_TRUE(server.isValidated(data[0].first));
}
