#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace conclave::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

int counter = 0;

std::filesystem::path freshDir(const std::string& what) {
  auto dir = std::filesystem::temp_directory_path() /
             ("conclave-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, int stdoutFd,
            int stderrFd) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::dup2(stdoutFd, 1);
  ::dup2(stderrFd, 2);
  for (const auto& [k, v] : env) {
    // Not an environment variable: the child's open-file limit, for tests of descriptor exhaustion.
    if (k == kNofileLimit) {
      rlimit limit{std::stoul(v), std::stoul(v)};
      ::setrlimit(RLIMIT_NOFILE, &limit);
      continue;
    }
    ::setenv(k.c_str(), v.c_str(), 1);
  }
  std::vector<char*> argv;
  std::string bin = CONCLAVE_BIN;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(bin.c_str(), argv.data());
  ::_exit(127);
}

int waitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// In sanitizer builds scripts/test.sh names a folder in CONCLAVE_SANITIZER_REPORTS. GCC's UBSan
// writes its reports to stderr (it ignores log_path), which is the server's log file here and
// deleted with it; a log that holds a report is kept there so the suite fails and shows it.
void keepSanitizerReport(const std::string& log, pid_t pid) {
  const char* dir = std::getenv("CONCLAVE_SANITIZER_REPORTS");
  if (!dir || (log.find("runtime error:") == std::string::npos && log.find("Sanitizer:") == std::string::npos)) return;
  std::ofstream(std::filesystem::path(dir) / ("report.conclave-stderr." + std::to_string(pid))) << log;
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> extraArgs, const std::map<std::string, std::string>& env) {
  mDataDir = freshDir("data");
  mLogFile = mDataDir.parent_path() / (mDataDir.filename().string() + ".log");
  std::vector<std::string> args = {"--port",
                                   "0",
                                   "--listen",
                                   "127.0.0.1",
                                   "--data-dir",
                                   mDataDir.string(),
                                   "--media-port",
                                   "0",
                                   "--media-workers",
                                   "1",
                                   "--media-listen",
                                   "127.0.0.1",
                                   "--media-announced-address",
                                   "127.0.0.1"};
  args.insert(args.end(), extraArgs.begin(), extraArgs.end());
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) throw std::runtime_error("pipe failed");
  int logFd = ::open(mLogFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  mPid = spawn(args, env, pipeFds[1], logFd);
  ::close(pipeFds[1]);
  ::close(logFd);
  // The first line of stdout names the URL with the port.
  std::string out;
  char buf[256];
  std::regex portPattern(R"(https://[^:]+:(\d+)/)");
  std::smatch m;
  while (!std::regex_search(out, m, portPattern)) {
    ssize_t n = ::read(pipeFds[0], buf, sizeof buf);
    if (n <= 0) {
      ::close(pipeFds[0]);
      throw std::runtime_error("conclave did not start: " + readAll(mLogFile));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipeFds[0]);
  mPort = static_cast<uint16_t>(std::stoi(m[1].str()));
}

ServerProcess::~ServerProcess() {
  pid_t pid = mPid;
  if (mPid > 0) stop(SIGKILL, std::chrono::seconds(5));
  keepSanitizerReport(log(), pid);
  std::filesystem::remove_all(mDataDir);
  std::filesystem::remove(mLogFile);
}

std::string ServerProcess::log() const { return readAll(mLogFile); }

int ServerProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (mPid <= 0) return -1;
  ::kill(mPid, signal);
  int status = waitExit(mPid, timeout);
  if (status == -1) {
    ::kill(mPid, SIGKILL);
    waitExit(mPid, std::chrono::seconds(5));
  }
  mPid = -1;
  return status;
}

std::pair<int, std::string> runConclave(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env) {
  auto dir = freshDir("run");
  auto errFile = dir / "stderr";
  int errFd = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int nullFd = ::open("/dev/null", O_WRONLY);
  pid_t pid = spawn(args, env, nullFd, errFd);
  ::close(errFd);
  ::close(nullFd);
  int status = waitExit(pid, std::chrono::seconds(10));
  auto err = readAll(errFile);
  keepSanitizerReport(err, pid);
  std::filesystem::remove_all(dir);
  return {status, err};
}

RunResult runConclaveCapturing(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  auto dir = freshDir("run");
  auto outFile = dir / "stdout";
  auto errFile = dir / "stderr";
  int outFd = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int errFd = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = spawn(args, env, outFd, errFd);
  ::close(outFd);
  ::close(errFd);
  RunResult result;
  result.status = waitExit(pid, std::chrono::seconds(30));
  result.out = readAll(outFile);
  result.err = readAll(errFile);
  keepSanitizerReport(result.err, pid);
  std::filesystem::remove_all(dir);
  return result;
}

tcp::socket connectFrom(asio::io_context& io, uint16_t port, const std::string& source) {
  tcp::socket socket(io);
  socket.open(tcp::v4());
  socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return socket;
}

HttpResult httpsRequest(uint16_t port, http::verb method, const std::string& target,
                        const std::map<std::string, std::string>& extraHeaders, const std::string& body,
                        const std::string& source) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(connectFrom(io, port, source)), tls);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : extraHeaders) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  // A server may answer (413, 403) and close before reading a large body: the answer counts.
  beast::error_code writeError;
  http::write(stream, req, writeError);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  beast::error_code readError;
  http::read(stream, buffer, parser, readError);
  res = parser.release();
  HttpResult out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  beast::error_code ignored;
  stream.shutdown(ignored);
  return out;
}

WsClient::WsClient(uint16_t port, const std::string& source) : mWs(mIo, mTls) {
  mTls.set_verify_mode(asio::ssl::verify_none);
  auto& sock = beast::get_lowest_layer(mWs);
  sock = connectFrom(mIo, port, source);
  // A stuck test fails after 10 s instead of hanging.
  timeval tv{10, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  mWs.next_layer().handshake(asio::ssl::stream_base::client);
  mWs.handshake("localhost", "/ws");
}

void WsClient::sendText(const std::string& text) {
  mWs.text(true);
  // A server that closes in the middle of a large frame breaks the write; read() then tells why.
  beast::error_code ignored;
  mWs.write(asio::buffer(text), ignored);
}

void WsClient::sendFrameStart(uint64_t length) {
  std::string frame;
  frame.push_back(static_cast<char>(0x81));        // FIN, text
  frame.push_back(static_cast<char>(0x80 | 127));  // masked, 64-bit length
  for (int i = 7; i >= 0; --i) frame.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  frame.append("\x11\x22\x33\x44", 4);  // mask
  frame.append(16, 'x');
  beast::error_code ignored;
  asio::write(mWs.next_layer(), asio::buffer(frame), ignored);
}

std::optional<nlohmann::json> WsClient::read() {
  if (!mPending.empty()) {
    auto m = mPending.front();
    mPending.erase(mPending.begin());
    return m;
  }
  beast::flat_buffer buffer;
  beast::error_code ec;
  mWs.read(buffer, ec);
  if (ec) {
    mCloseCode = mWs.reason().code;
    mCloseReason = std::string(mWs.reason().reason.c_str());
    return std::nullopt;
  }
  return nlohmann::json::parse(beast::buffers_to_string(buffer.data()));
}

nlohmann::json WsClient::readType(const std::string& type) {
  for (size_t i = 0; i < mPending.size(); ++i) {
    if (mPending[i]["type"] == type) {
      auto m = mPending[i];
      mPending.erase(mPending.begin() + static_cast<long>(i));
      return m;
    }
  }
  for (;;) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    mWs.read(buffer, ec);
    if (ec) throw std::runtime_error("connection ended while waiting for " + type + ": " + ec.message());
    auto m = nlohmann::json::parse(beast::buffers_to_string(buffer.data()));
    if (m["type"] == type) return m;
    mPending.push_back(m);
  }
}

void WsClient::hello() {
  sendJson({{"type", "hello"}, {"version", 1}});
  readType("welcome");
}

}  // namespace conclave::testing
