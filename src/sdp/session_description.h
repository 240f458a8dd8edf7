// The typed WebRTC view of an SDP description: what the SFU needs from each m-section (codecs,
// header extensions, SSRCs, RIDs and simulcast, ICE and DTLS parameters, BUNDLE).
//
// interpret() validates every WebRTC attribute it understands (RFC 8839 ICE, RFC 8122/8842
// fingerprint and setup, RFC 5888/8843 groups and BUNDLE, RFC 4566/8866 rtpmap and fmtp,
// RFC 4585 rtcp-fb, RFC 8285 extmap, RFC 5576 ssrc, RFC 8851 rid, RFC 8853 simulcast,
// RFC 8830 msid) and keeps unknown attributes out of the way (they stay in the generic
// Description). Session-level ICE credentials, fingerprints and setup are inherited by media
// sections that do not carry their own, so each MediaDescription holds its effective values.
// Browsers differ in one known way that is harmless: rtpmap, fmtp and rtcp-fb lines for payload
// types the m= line does not list (Firefox keeps them for codecs setCodecPreferences() removed).
// Those are counted in ignoredAttributes and skipped; malformed lines are still errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sdp/sdp.h"

namespace conclave::sdp {

enum class MediaKind { Audio, Video, Application, Other };
enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };
enum class SetupRole { ActPass, Active, Passive, HoldConn };

std::string_view toString(MediaKind kind);       // "audio", "video", "application", "other"
std::string_view toString(Direction direction);  // "sendrecv", ...
std::string_view toString(SetupRole role);       // "actpass", ...
// The direction seen from the other side: sendonly <-> recvonly.
Direction reverse(Direction direction);

struct Fingerprint {
  std::string algorithm;  // lower case: "sha-256", "sha-384", "sha-512", "sha-1", "sha-224"
  std::vector<uint8_t> bytes;

  bool operator==(const Fingerprint&) const = default;
};
// "sha-256 AB:CD:..." (hex in either case, exactly the digest length of the algorithm).
std::optional<Fingerprint> parseFingerprint(std::string_view value);
std::string formatFingerprint(const Fingerprint& fingerprint);  // upper-case hex, RFC 8122

struct FmtpParameter {
  std::string name;  // empty for a value without "name=" (e.g. RED's "111/111")
  std::string value;

  bool operator==(const FmtpParameter&) const = default;
};

struct RtcpFeedback {
  std::string type;       // "nack", "ccm", "goog-remb", "transport-cc"
  std::string parameter;  // "", "pli", "fir"

  bool operator==(const RtcpFeedback&) const = default;
};

struct Codec {
  uint8_t payloadType = 0;
  std::string name;  // as written: "opus", "VP8", "rtx"
  uint32_t clockRate = 0;
  uint8_t channels = 1;
  std::vector<FmtpParameter> parameters;
  std::vector<RtcpFeedback> feedback;

  const std::string* parameter(std::string_view key) const;
  bool isRtx() const;
  std::optional<uint8_t> rtxApt() const;  // apt= of an rtx codec
};

struct HeaderExtension {
  uint16_t id = 0;  // 1..14 (one-byte) or 1..255 (two-byte, with extmap-allow-mixed)
  std::string uri;
  std::optional<Direction> direction;
  std::string attributes;  // extension attributes after the URI, verbatim

  bool operator==(const HeaderExtension&) const = default;
};

struct Msid {
  std::string stream;  // "-" means no stream
  std::string track;   // may be empty (RFC 8830 appdata is optional)

  bool operator==(const Msid&) const = default;
};

struct SsrcInfo {
  uint32_t ssrc = 0;
  std::string cname;
  std::optional<Msid> msid;
};

struct SsrcGroup {
  std::string semantics;  // "FID", "SIM", "FEC-FR", ...
  std::vector<uint32_t> ssrcs;
};

enum class RidDirection { Send, Recv };

struct Rid {
  std::string id;
  RidDirection direction = RidDirection::Send;
  std::vector<uint8_t> payloadTypes;        // pt=...
  std::vector<FmtpParameter> restrictions;  // max-width=..., verbatim
};

struct SimulcastStream {
  std::string rid;
  bool paused = false;  // "~rid"

  bool operator==(const SimulcastStream&) const = default;
};
// A simulcast list: streams separated by ';', each a set of alternatives separated by ','.
using SimulcastList = std::vector<std::vector<SimulcastStream>>;
struct Simulcast {
  SimulcastList send;
  SimulcastList recv;
};

struct Candidate {
  std::string foundation;
  uint16_t component = 1;
  std::string transport;  // "udp", "tcp" (as written)
  uint32_t priority = 0;
  std::string address;  // IP literal or an mDNS name
  uint16_t port = 0;
  std::string type;  // "host", "srflx", "prflx", "relay"
  std::optional<std::string> relatedAddress;
  std::optional<uint16_t> relatedPort;
  std::vector<std::pair<std::string, std::string>> extensions;  // tcptype, generation, ufrag...
};
std::optional<Candidate> parseCandidate(std::string_view value);
std::string formatCandidate(const Candidate& candidate);

struct IceParameters {
  std::string ufrag;
  std::string pwd;
  std::vector<std::string> options;  // "trickle", "ice2", ...

  bool hasOption(std::string_view option) const;
};

struct Group {
  std::string semantics;  // "BUNDLE", "LS", ...
  std::vector<std::string> mids;
};

struct MediaDescription {
  MediaKind kind = MediaKind::Other;
  std::string media;  // the m= media token
  uint16_t port = 0;
  std::string protocol;
  std::vector<std::string> formats;
  bool bundleOnly = false;
  // Port 0 without a=bundle-only: the section is rejected (answer) or disabled (offer).
  bool rejected() const { return port == 0 && !bundleOnly; }

  std::string mid;
  Direction direction = Direction::SendRecv;
  std::vector<Codec> codecs;  // in m= line order (RTP sections only)
  std::vector<HeaderExtension> extensions;
  std::vector<SsrcInfo> ssrcs;
  std::vector<SsrcGroup> ssrcGroups;
  std::vector<Msid> msids;
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;

  IceParameters ice;                      // effective (media level, else session level)
  std::vector<Fingerprint> fingerprints;  // effective
  std::optional<SetupRole> setup;         // effective
  std::vector<Candidate> candidates;
  bool endOfCandidates = false;
  bool rtcpMux = false;
  bool rtcpMuxOnly = false;
  bool rtcpRsize = false;
  bool extmapAllowMixed = false;  // effective
  std::optional<uint16_t> sctpPort;
  std::optional<uint64_t> maxMessageSize;
  size_t line = 0;
  // rtpmap, fmtp and rtcp-fb lines for payload types not on the m= line: skipped, not refused.
  size_t ignoredAttributes = 0;

  const Codec* codec(uint8_t payloadType) const;
  const HeaderExtension* extension(std::string_view uri) const;
  const SsrcInfo* ssrcInfo(uint32_t ssrc) const;
};

struct SessionDescription {
  Origin origin;
  bool iceLite = false;
  bool extmapAllowMixed = false;
  std::vector<Group> groups;
  std::vector<MediaDescription> media;

  const Group* bundleGroup() const;  // the first BUNDLE group, if any
  size_t ignoredAttributes() const;  // the sum over all media sections
  const MediaDescription* findMid(std::string_view mid) const;
};

// Error codes (beyond those of parse()): missing-mid, bad-mid, duplicate-mid, bad-group,
// bad-direction, bad-rtpmap, missing-rtpmap, bad-fmtp, bad-rtcp-fb, bad-extmap,
// duplicate-extmap-id, conflicting-extmap, bad-ssrc, bad-ssrc-group, bad-msid, bad-rid,
// bad-simulcast, bad-ice-ufrag, bad-ice-pwd, bad-ice-options, bad-fingerprint, bad-setup,
// bad-candidate, bad-sctp.
Result<SessionDescription> interpret(const Description& description);
// parse() then interpret().
Result<SessionDescription> parseSessionDescription(std::string_view text, const Limits& limits = {});

// Name comparison for codecs and fingerprint algorithms (ASCII, case-insensitive).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace conclave::sdp
