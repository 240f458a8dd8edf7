#include "http/metrics_server.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <stdexcept>

#include "common/log.h"
#include "common/metrics_text.h"

namespace conclave::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr size_t kMaxHeaderBytes = 4 * 1024;
constexpr auto kDeadline = std::chrono::seconds(5);
}  // namespace

class MetricsServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<size_t> open, std::shared_ptr<const std::function<std::string()>> render)
      : mSocket(std::move(socket)), mTimer(mSocket.get_executor()), mOpen(std::move(open)), mRender(std::move(render)) {
    ++*mOpen;
  }
  ~Session() { --*mOpen; }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    mParser.header_limit(kMaxHeaderBytes);
    mParser.body_limit(0);
    mTimer.expires_after(kDeadline);
    mTimer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close();
    });
    bhttp::async_read(mSocket, mBuffer, mParser,
                      [self = shared_from_this()](boost::system::error_code ec, size_t) { self->onRead(ec); });
  }

 private:
  void onRead(boost::system::error_code ec) {
    if (ec) {
      // Too large or malformed: a plain 400. Cut off, or closed at the deadline: nothing to say.
      if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || !mSocket.is_open()) {
        close();
      } else {
        answer(bhttp::status::bad_request, "");
      }
      return;
    }
    const auto& request = mParser.get();
    if (request.target() != "/metrics") {
      answer(bhttp::status::not_found, "not found\n");
    } else if (request.method() != bhttp::verb::get) {
      answer(bhttp::status::method_not_allowed, "GET only\n");
    } else {
      answer(bhttp::status::ok, (*mRender)());
    }
  }

  void answer(bhttp::status status, std::string body) {
    mResponse.result(status);
    mResponse.version(11);
    std::string_view type =
        status == bhttp::status::ok ? common::MetricsText::kContentType : std::string_view("text/plain; charset=utf-8");
    mResponse.set(bhttp::field::content_type, beast::string_view(type.data(), type.size()));
    mResponse.set(bhttp::field::cache_control, "no-store");
    mResponse.keep_alive(false);
    mResponse.body() = std::move(body);
    mResponse.set(bhttp::field::allow, "GET");
    mResponse.prepare_payload();
    bhttp::async_write(mSocket, mResponse,
                       [self = shared_from_this()](boost::system::error_code, size_t) { self->close(); });
  }

  void close() {
    boost::system::error_code ignored;
    mSocket.shutdown(tcp::socket::shutdown_both, ignored);
    mSocket.close(ignored);
    mTimer.cancel();
  }

  tcp::socket mSocket;
  asio::steady_timer mTimer;
  std::shared_ptr<size_t> mOpen;
  std::shared_ptr<const std::function<std::string()>> mRender;
  beast::flat_buffer mBuffer{kMaxHeaderBytes};
  bhttp::request_parser<bhttp::empty_body> mParser;
  bhttp::response<bhttp::string_body> mResponse;
};

MetricsServer::MetricsServer(asio::io_context& io, const std::string& address, uint16_t port,
                             std::function<std::string()> render)
    : mIo(io),
      mAcceptor(io),
      mRetry(io),
      mRender(std::make_shared<const std::function<std::string()>>(std::move(render))),
      mOpen(std::make_shared<size_t>(0)) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("metrics_listen: \"" + address + "\" is not an IP address");
  tcp::endpoint endpoint(ip, port);
  mAcceptor.open(endpoint.protocol());
  mAcceptor.set_option(tcp::acceptor::reuse_address(true));
  mAcceptor.bind(endpoint, ec);
  if (ec) throw std::runtime_error("metrics_listen: cannot listen on " + address + ": " + ec.message());
  mAcceptor.listen();
  mPort = mAcceptor.local_endpoint().port();
}

MetricsServer::~MetricsServer() {
  // The timer cancels itself when it goes; the acceptor is closed without a throw.
  boost::system::error_code ignored;
  mAcceptor.close(ignored);
}

void MetricsServer::start() { accept(); }

void MetricsServer::stop() {
  boost::system::error_code ignored;
  mAcceptor.close(ignored);
  mRetry.cancel();
}

void MetricsServer::accept() {
  mAcceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !mAcceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors, most likely: try again a little later rather than spin.
      mRetry.expires_after(std::chrono::milliseconds(100));
      mRetry.async_wait([this](boost::system::error_code e) {
        if (!e) accept();
      });
      return;
    }
    {
      if (*mOpen >= kMaxConnections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), mOpen, mRender)->start();
      }
    }
    accept();
  });
}

}  // namespace conclave::http
