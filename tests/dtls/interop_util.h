// Test helpers for interop with independent DTLS stacks over loopback UDP: a UDP socket on
// 127.0.0.1 and a child process (openssl CLI, python3 + aiortc) whose output the test reads.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::dtls::test {

class UdpSocket {
 public:
  UdpSocket() {
    mFd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (mFd < 0 || ::bind(mFd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(mFd, reinterpret_cast<sockaddr*>(&addr), &len);
    mPort = ntohs(addr.sin_port);
  }
  ~UdpSocket() { ::close(mFd); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  uint16_t port() const { return mPort; }
  void setPeerPort(uint16_t port) { mPeerPort = port; }
  std::optional<uint16_t> peerPort() const { return mPeerPort; }

  void send(std::span<const uint8_t> data) {
    if (!mPeerPort) return;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
    to.sin_port = htons(*mPeerPort);
    ::sendto(mFd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  // Waits up to `timeout` for one datagram; learns the peer's port from the first one.
  std::optional<std::vector<uint8_t>> receive(std::chrono::milliseconds timeout) {
    pollfd p{mFd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    std::vector<uint8_t> buf(65536);
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(mFd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    if (!mPeerPort) mPeerPort = ntohs(from.sin_port);
    buf.resize(static_cast<size_t>(n));
    return buf;
  }

 private:
  int mFd = -1;
  uint16_t mPort = 0;
  std::optional<uint16_t> mPeerPort;
};

// A child process with a pipe to its stdin and its stdout+stderr collected.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) std::abort();
    mPid = ::fork();
    if (mPid == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      std::_Exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    mStdin = in[1];
    mStdout = out[0];
    ::fcntl(mStdout, F_SETFL, O_NONBLOCK);
    ::signal(SIGPIPE, SIG_IGN);
  }
  ~ChildProcess() {
    closeStdin();  // lets scripts that watch stdin shut down their own children first
    waitExit(std::chrono::seconds(10));
    if (mPid > 0 && !mExited) {
      ::kill(mPid, SIGKILL);
      ::waitpid(mPid, nullptr, 0);
    }
    ::close(mStdout);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void writeStdin(std::string_view text) {
    if (mStdin >= 0) (void)!::write(mStdin, text.data(), text.size());
  }
  void closeStdin() {
    if (mStdin >= 0) ::close(mStdin);
    mStdin = -1;
  }

  // Collects whatever output is available.
  void pump() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(mStdout, buf, sizeof buf)) > 0) mOutput.append(buf, static_cast<size_t>(n));
  }
  const std::string& output() {
    pump();
    return mOutput;
  }
  bool waitForOutput(std::string_view text, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (output().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > end || exited()) return output().find(text) != std::string::npos;
      pollfd p{mStdout, POLLIN, 0};
      ::poll(&p, 1, 20);
    }
    return true;
  }
  // The value after `prefix` up to the end of its line, from the output so far.
  std::optional<std::string> lineAfter(std::string_view prefix) {
    const std::string& all = output();
    const size_t at = all.find(prefix);
    if (at == std::string::npos) return std::nullopt;
    const size_t start = at + prefix.size();
    const size_t end = all.find('\n', start);
    if (end == std::string::npos) return std::nullopt;
    std::string value = all.substr(start, end - start);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    return value;
  }
  // Waits for a complete line starting with `prefix` and returns the rest of it.
  std::optional<std::string> waitForLine(std::string_view prefix, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto value = lineAfter(prefix)) return value;
      if (std::chrono::steady_clock::now() > end || exited()) return lineAfter(prefix);
      pollfd p{mStdout, POLLIN, 0};
      ::poll(&p, 1, 20);
    }
  }
  bool exited() {
    if (!mExited && ::waitpid(mPid, &mStatus, WNOHANG) == mPid) mExited = true;
    return mExited;
  }
  bool waitExit(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!exited() && std::chrono::steady_clock::now() < end) {
      pump();
      ::usleep(10000);
    }
    pump();
    return mExited;
  }
  int exitCode() const { return WIFEXITED(mStatus) ? WEXITSTATUS(mStatus) : -1; }

 private:
  pid_t mPid = -1;
  int mStdin = -1;
  int mStdout = -1;
  bool mExited = false;
  int mStatus = 0;
  std::string mOutput;
};

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "conclave-dtls-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    mPath = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(mPath); }
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = mPath / name;
    std::ofstream(file) << content;
    return file.string();
  }

 private:
  std::filesystem::path mPath;
};

inline bool executableExists(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

inline std::string hexUpper(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace conclave::dtls::test
