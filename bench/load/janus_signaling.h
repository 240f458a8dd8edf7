// The Janus adapter of conclave-load's signaling (signaling.h), so that the same load measures
// Janus's VideoRoom plugin (tested against Janus 1.1.2): its JSON API over a plain WebSocket
// (ws://HOST:PORT/, subprotocol "janus-protocol"), one WebSocket and one Janus session per
// participant, as a browser running janus.js has.
//
// The meeting is a VideoRoom room made through the API (VP8 and Opus, room for maxPublishers
// publishers). Each participant attaches two handles: a publisher handle that joins the room
// (ptype publisher, whether it publishes or not: that is how a participant learns who publishes)
// and publishes our offer with "trickle": false and "rid_order": "lmh" (our simulcast rids go
// from the lowest layer up), and a subscriber handle that subscribes to every publisher's
// streams: a join (ptype subscriber) with the publishers known at that time, then "subscribe" for
// each new one; each of Janus's offers is answered with "start". The layer a subscriber asks for
// is a "configure" with the substream the shown width calls for (<= 320: 0, <= 640: 1, else 2).
// A keepalive every 25 s keeps the session (Janus drops one idle for its session_timeout).
//
// All sessions share one io_context and its thread: asynchronous Beast/Asio, one read pending
// and one write queue per session.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "load/signaling.h"

namespace conclave::bench::load {

struct JanusOptions {
  std::string host = "127.0.0.1";  // an IP literal
  uint16_t port = 8188;
  int maxPublishers = 1000;  // the room's "publishers"
};

// "ws://HOST:PORT" or "ws://HOST:PORT/"; false if it is not one.
bool parseJanusUrl(const std::string& url, JanusOptions& options);

std::unique_ptr<SignalingServer> makeJanusServer(boost::asio::io_context& io, const JanusOptions& options);

}  // namespace conclave::bench::load
