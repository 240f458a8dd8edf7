// What the SFU can receive and send: codecs and RTP header extensions.
//
// The SFU forwards media without decoding it, so every participant must use the same codecs:
// Opus for audio, VP8 (with RTX retransmission) for video.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/sdp.h"
#include "sdp/session_description.h"

namespace conclave::sdp {

namespace uri {
inline constexpr std::string_view kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kAbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
}  // namespace uri

inline constexpr std::string_view kRtpProtocol = "UDP/TLS/RTP/SAVPF";

struct CodecCapability {
  MediaKind kind = MediaKind::Audio;
  std::string name;  // matched case-insensitively
  uint32_t clockRate = 0;
  uint8_t channels = 1;
  uint8_t payloadType = 0;                // used in the server's own (subscribe) offers
  std::optional<uint8_t> rtxPayloadType;  // RTX supported when set (offers use this pt)
  // Written in answers and offers: what the SFU wants to receive (e.g. Opus in-band FEC).
  std::vector<FmtpParameter> parameters;
  // Feedback the SFU handles; answers keep the intersection with what was offered.
  std::vector<RtcpFeedback> feedback;

  bool matches(MediaKind mediaKind, const Codec& codec) const;
};

struct ExtensionCapability {
  MediaKind kind = MediaKind::Audio;
  std::string uri;
  uint16_t id = 0;      // the id used in the server's own (subscribe) offers
  bool receive = true;  // accepted from publishers
  bool send = true;     // offered to subscribers
};

struct Capabilities {
  std::vector<CodecCapability> codecs;
  std::vector<ExtensionCapability> extensions;
  size_t maxSimulcastLayers = 3;
  // Extension ids above 14 need two-byte headers (RFC 8285 extmap-allow-mixed); the SFU uses
  // one-byte headers only unless this is set.
  bool allowMixedExtmap = false;
  std::vector<std::string> fingerprintAlgorithms{"sha-256", "sha-384", "sha-512"};

  // Opus 111 (minptime=10;useinbandfec=1;usedtx=1), VP8 96 + RTX 97 (goog-remb, ccm fir, nack,
  // nack pli); mid, ssrc-audio-level, abs-send-time and, for publishers only, rtp-stream-id /
  // repaired-rtp-stream-id for simulcast. (transport-cc comes with bandwidth estimation.)
  static Capabilities defaults();

  const CodecCapability* findCodec(MediaKind kind, const Codec& codec) const;
  const ExtensionCapability* findExtension(MediaKind kind, std::string_view uri) const;
  bool supportsFingerprint(const Fingerprint& fingerprint) const;
};

// Writing helpers shared by answers and offers.
std::string formatParameters(const std::vector<FmtpParameter>& parameters);  // "a=1;b=2"
// rtpmap, rtcp-fb and (if any parameters) fmtp lines of one codec.
void addCodecAttributes(MediaSection& section, const Codec& codec);
void addExtension(MediaSection& section, const HeaderExtension& extension);

}  // namespace conclave::sdp
