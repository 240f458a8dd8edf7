// The /metrics listener (setting metrics_listen): plain HTTP on an address of its own, off by
// default, meant for localhost or a monitoring network, never for the public port. GET /metrics
// answers the Prometheus text that `render` writes (see common::MetricsText); anything else is
// 404 or 405. Each connection carries one request and is closed after the answer. It keeps to
// budgets: at most kMaxConnections at once (more are closed at accept), a request header of at
// most 4 KiB and no body, and a deadline of 5 s per connection.
// Runs on the control thread's io_context, like http::Server, so `render` may read its state.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace conclave::http {

class MetricsServer {
 public:
  static constexpr size_t kMaxConnections = 8;

  // Binds and listens now (throws std::runtime_error with the reason if it cannot).
  MetricsServer(boost::asio::io_context& io, const std::string& address, uint16_t port,
                std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  void stop();
  uint16_t port() const { return mPort; }

 private:
  class Session;
  void accept();

  boost::asio::io_context& mIo;
  boost::asio::ip::tcp::acceptor mAcceptor;
  uint16_t mPort = 0;
  boost::asio::steady_timer mRetry;                             // after a failed accept (out of file descriptors)
  std::shared_ptr<const std::function<std::string()>> mRender;  // shared with the sessions
  std::shared_ptr<size_t> mOpen;                                // connections open now, shared with the sessions
};

}  // namespace conclave::http
