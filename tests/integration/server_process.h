// Test support: the real conclave binary in a child process, and small HTTPS/WebSocket clients.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace conclave::testing {

// In ServerProcess's `env`: not a variable but the child's RLIMIT_NOFILE (soft and hard).
inline constexpr const char* kNofileLimit = "(RLIMIT_NOFILE)";

class ServerProcess {
 public:
  // Starts `conclave --port 0 --data-dir <fresh dir> <extraArgs>` and waits for it to print the
  // port it listens on. stderr (the log) goes to a file readable with log().
  explicit ServerProcess(std::vector<std::string> extraArgs = {}, const std::map<std::string, std::string>& env = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return mPort; }
  pid_t pid() const { return mPid; }
  const std::filesystem::path& dataDir() const { return mDataDir; }
  std::string log() const;
  // Sends `signal` and waits for the exit status (or -1 after `timeout`).
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  pid_t mPid = -1;
  uint16_t mPort = 0;
  std::filesystem::path mDataDir;
  std::filesystem::path mLogFile;
};

// Runs the binary to completion; returns {exit status, stderr}.
std::pair<int, std::string> runConclave(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env = {});

// Runs the binary to completion; returns {exit status, stdout, stderr}.
struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};
RunResult runConclaveCapturing(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env = {});

struct HttpResult {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// `source` is the client's local address: other loopback addresses (127.0.0.2, ...) stand for
// other machines in tests of per-source limits.
HttpResult httpsRequest(uint16_t port, boost::beast::http::verb method, const std::string& target,
                        const std::map<std::string, std::string>& extraHeaders = {}, const std::string& body = {},
                        const std::string& source = "127.0.0.1");

// A TCP socket connected to the server from `source` (no TLS yet).
boost::asio::ip::tcp::socket connectFrom(boost::asio::io_context& io, uint16_t port,
                                         const std::string& source = "127.0.0.1");

class WsClient {
 public:
  explicit WsClient(uint16_t port, const std::string& source = "127.0.0.1");
  void sendText(const std::string& text);
  void sendJson(const nlohmann::json& message) { sendText(message.dump()); }
  // Starts a masked text frame that announces `length` bytes and sends only its first few, so a
  // server that refuses the size has nothing unread when it closes (no RST racing the close).
  void sendFrameStart(uint64_t length);
  // The next message, or nullopt when the server closed the connection (closeCode() tells why).
  std::optional<nlohmann::json> read();
  // Reads until a message of `type` arrives (others are kept for later reads).
  nlohmann::json readType(const std::string& type);
  // hello + welcome
  void hello();
  int closeCode() const { return mCloseCode; }
  std::string closeReason() const { return mCloseReason; }

 private:
  boost::asio::io_context mIo;
  boost::asio::ssl::context mTls{boost::asio::ssl::context::tls_client};
  boost::beast::websocket::stream<boost::beast::ssl_stream<boost::asio::ip::tcp::socket>> mWs;
  std::vector<nlohmann::json> mPending;
  int mCloseCode = 0;
  std::string mCloseReason;
};

}  // namespace conclave::testing
