// The PUBLISH RTCPeerConnection: the browser offers the tracks it sends, the server answers.
//
// negotiatePublish() decides, per offered m-section, what the SFU accepts: audio with Opus,
// video with VP8 (+ RTX), BUNDLEd with rtcp-mux on UDP/TLS/RTP/SAVPF. Everything else is
// rejected with port 0 (the mid is echoed, RFC 8843 / JSEP §5.3.1). Payload types and header
// extension ids are the publisher's: the answer reuses them, so the SFU reads the publisher's
// RTP as is. writePublishAnswer() turns the result into the answer SDP (ICE-lite, one
// transport, the server's candidates).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sdp/capabilities.h"
#include "sdp/session_description.h"
#include "sdp/transport.h"

namespace conclave::sdp {

struct AnswerMedia {
  std::string mid;
  MediaKind kind = MediaKind::Other;
  std::string media;     // the offered m= media token
  std::string protocol;  // echoed
  std::vector<std::string> offeredFormats;

  bool accepted = false;
  // Why a section was rejected, a stable code: "disabled" (port 0 in the offer),
  // "unsupported-media", "unsupported-protocol", "not-bundled", "rtcp-mux-required",
  // "no-common-codec".
  std::string rejectReason;

  Direction direction = Direction::Inactive;  // the answer's direction (recvonly when sending)
  std::vector<Codec> codecs;                  // the answer's codecs: the media codec, then RTX
  std::vector<HeaderExtension> extensions;    // common extensions with the publisher's ids
  bool rtcpRsize = false;

  // What the publisher sends, from the offer (meaningful when accepted).
  std::vector<SsrcInfo> ssrcs;
  std::vector<SsrcGroup> ssrcGroups;
  std::vector<Msid> msids;
  std::vector<Rid> rids;               // as answered: direction recv, only the layers kept
  std::optional<Simulcast> simulcast;  // as answered: a recv list

  const Codec* mediaCodec() const;  // the first non-RTX codec, or null
  const Codec* rtxCodec() const;    // the RTX codec, or null
};

struct PublishAnswer {
  RemoteTransport remote;  // the browser's ICE credentials, fingerprints, setup
  SetupRole localSetup = SetupRole::Passive;
  bool extmapAllowMixed = false;
  std::vector<AnswerMedia> media;       // one per offered m-section, in order
  std::vector<std::string> bundleMids;  // accepted mids; the first carries the transport
};

// Error codes (the offer as a whole is unusable): not-an-offer (no sections), missing-bundle,
// plus those of remoteTransport() for the BUNDLE transport.
Result<PublishAnswer> negotiatePublish(const SessionDescription& offer, const Capabilities& capabilities);

std::string writePublishAnswer(const PublishAnswer& answer, const LocalTransport& transport,
                               const SessionOrigin& origin);

}  // namespace conclave::sdp
