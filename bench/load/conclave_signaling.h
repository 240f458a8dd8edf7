// The Conclave adapter of conclave-load's signaling (signaling.h): HTTPS POST /api/rooms for the
// meeting, then per participant one WebSocket (wss://HOST:PORT/ws, Origin https://HOST:PORT)
// speaking protocol v1 (docs/protocol.md): hello, join, publish, subscribe-answer,
// video-preferences, ping every 25 s; WebSocket pings are answered by Beast. The server's
// certificate is not verified (a local benchmark against a self-signed one).
//
// All sessions share one io_context and its thread: asynchronous Beast/Asio, one read pending
// and one write queue per session. At most `maxConnecting` sessions are in their TCP/TLS/
// WebSocket handshakes at once (the server allows 20 TLS handshakes in progress per source by
// default), the rest wait their turn.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "load/signaling.h"

namespace conclave::bench::load {

struct ConclaveOptions {
  std::string host = "127.0.0.1";  // an IP literal
  uint16_t port = 8443;
  // Local addresses the signaling connections come from, in turn (empty: the kernel's choice).
  // Several loopback addresses (127.0.0.2, ...) count as several sources for the server's
  // per-source connection limits.
  std::vector<std::string> sources;
  size_t maxConnecting = 16;
};

std::unique_ptr<SignalingServer> makeConclaveServer(boost::asio::io_context& io, const ConclaveOptions& options);

}  // namespace conclave::bench::load
