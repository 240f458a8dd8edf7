// The SDP a load session writes and reads: the publish offer (as Chromium writes one for a
// microphone and a simulcast camera), the transport of the server's answer, and the answer to
// the server's subscribe offers (as Chromium answers them: every section received).
//
// Everything is parsed with Conclave's own sdp/ parser, and the server side is only looked at
// through the SDP: ICE credentials, the first UDP candidate of the session's address family, the
// DTLS fingerprint and role, and for subscriptions the SSRCs of each section (a=ssrc, RTX from
// a=ssrc-group:FID) and the transport-wide sequence number's extension id. So the same code
// reads another SFU's SDP (Janus) as long as it is Unified Plan with BUNDLE and rtcp-mux.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dtls/dtls_transport.h"
#include "ice/ice_server.h"
#include "net/endpoint.h"
#include "sdp/session_description.h"
#include "transport/webrtc_transport.h"

namespace conclave::bench::load {

// "127.0.0.1", "::1": an endpoint's address without its port.
std::string ipOf(const net::Endpoint& endpoint);
net::Endpoint withPort(const net::Endpoint& endpoint, uint16_t port);

// Our side of one connection: what its SDP tells the server.
struct LocalEndpoint {
  ice::IceCredentials ice;
  sdp::Fingerprint fingerprint;  // of the load tool's DTLS certificate
  net::Endpoint address;         // the connection's UDP socket: its one host candidate
};

struct PublishTracks {
  bool audio = true;
  bool video = true;       // a camera in three simulcast layers, rids q, h, f (lowest first)
  uint32_t audioSsrc = 0;  // a=ssrc (Chromium lists no SSRCs for a simulcast section)
  std::string cname;       // a=ssrc cname and msid stream
  std::string audioMid = "0";
  std::string videoMid = "1";
};

// The offer for `tracks` (sendonly sections, BUNDLE, rtcp-mux, setup:actpass): Opus 111 with
// transport-cc; VP8 96 with RTX 97 (goog-remb, transport-cc, ccm fir, nack, nack pli);
// extensions as Chromium numbers them (ssrc-audio-level 1, abs-send-time 2, transport-cc 3, mid
// 4, rtp-stream-id 10, repaired-rtp-stream-id 11), the ids bench/clients/media_clients.h sends.
std::string buildPublishOffer(const LocalEndpoint& local, const PublishTracks& tracks, uint64_t sessionId);

// The server's side of a connection.
struct RemoteEndpoint {
  ice::IceCredentials ice;
  net::Endpoint address;  // the first UDP candidate of the family asked for
  transport::RemoteFingerprint fingerprint;
  dtls::DtlsRole localRole = dtls::DtlsRole::Client;  // ours, from the server's a=setup
  bool iceLite = false;  // a=ice-lite (Conclave); a full ICE server (Janus) sends checks of its own
};

// From the server's answer to our publish offer. The error names what is missing.
common::Result<RemoteEndpoint, std::string> readPublishAnswer(std::string_view answer, net::Endpoint::Family family);

// One section of a subscribe offer.
struct ReceivedTrack {
  std::string mid;
  bool video = false;
  bool active = false;  // sendonly from the server with an SSRC (an ended track is inactive)
  uint32_t ssrc = 0;
  uint32_t rtxSsrc = 0;  // 0: none
  uint32_t clockRate = 48000;
};

struct SubscribeOffer {
  RemoteEndpoint remote;
  std::vector<ReceivedTrack> tracks;  // in section order
  uint8_t transportCcId = 0;          // 0: transport-cc not offered
  std::string answer;                 // our answer: every section recvonly (inactive stays inactive)
};

// Reads the server's subscribe offer and writes the answer (setup:active, our ICE credentials and
// fingerprint, the offered codecs and header extensions echoed). `version` counts our answers.
common::Result<SubscribeOffer, std::string> answerSubscribeOffer(std::string_view offer, const LocalEndpoint& local,
                                                                 net::Endpoint::Family family, uint64_t sessionId,
                                                                 uint64_t version);

}  // namespace conclave::bench::load
