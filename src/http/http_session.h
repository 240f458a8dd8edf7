// One HTTPS connection: TLS handshake, static files, the small HTTP API, encrypted file uploads
// and downloads, and the upgrade of /ws to a WsSession. Lives on the server's io_context thread
// and owns itself through shared_from_this while an operation is pending.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/file_body.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/account_api.h"
#include "http/sealed_body.h"
#include "http/server.h"
#include "http/tls_stream.h"

namespace conclave::http {

class HttpSession : public std::enable_shared_from_this<HttpSession>, private Evictable {
 public:
  HttpSession(Server& server, boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls, SourceSlot slot);
  ~HttpSession() override;
  void run();

 private:
  void onHandshake(beast::error_code ec);
  void readRequest();
  void onHeader(beast::error_code ec);
  void onRead(beast::error_code ec);
  void readUpload(const std::string& fileId);
  void readUploadBody(const std::string& fileId);
  void finishUpload(const std::string& fileId, beast::error_code ec);
  void serveDownload(std::string_view fileId);
  void handleRequest();
  void sendClientHash();
  ApiRequest apiRequest() const;
  void sendApi(const ApiResponse& response);
  // POST /api/rooms: a new room ID and its host token, with the initial settings of the body.
  void createRoom();
  template <typename Response>
  void send(Response&& response);
  template <typename R, typename S>
  void writeSome(std::shared_ptr<R> res, std::shared_ptr<S> serializer);
  void close();
  void evict() override;

  Server& mServer;
  SourceSlot mSlot;
  TlsStream mStream;
  beast::flat_buffer mBuffer;
  std::optional<beast::http::request_parser<beast::http::empty_body>> mHeaderParser;
  std::optional<beast::http::request_parser<beast::http::string_body>> mParser;
  std::optional<beast::http::request_parser<SealedBody>> mUploadParser;
};

}  // namespace conclave::http
