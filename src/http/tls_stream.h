// The TLS stream an HTTPS connection reads and writes, which a WebSocket session takes over.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

namespace conclave::http {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

}  // namespace conclave::http
