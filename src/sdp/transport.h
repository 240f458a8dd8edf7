// The transport part of Conclave's SDP: one ICE-lite + DTLS transport per RTCPeerConnection,
// every m-section BUNDLEd onto it, RTCP multiplexed.
//
// DTLS roles: the server is always the DTLS *server*. In the publish PC the browser offers
// setup:actpass and the server answers setup:passive; in the subscribe PC the server offers
// setup:actpass (JSEP requires it) and browsers answer setup:active. Being the DTLS server
// means the SFU only ever answers ClientHellos, which arrive right after the browser (the
// controlling ICE agent, since the server is ICE-lite) has nominated a pair. An offer with
// setup:passive still works: the server then answers active and must start the handshake.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/capabilities.h"
#include "sdp/sdp.h"
#include "sdp/session_description.h"

namespace conclave::sdp {

struct HostCandidate {
  std::string address;  // IPv4 or IPv6 literal the server listens on
  uint16_t port = 0;
  uint16_t localPreference = 65535;  // RFC 8445 §5.1.2.1; lower for secondary addresses
};

// RFC 8445 §5.1.2.1 priority of a host candidate (type preference 126).
uint32_t hostCandidatePriority(uint16_t localPreference, uint16_t component = 1);
// RFC 6544 §4.2 priority of a passive TCP host candidate: type preference 90, below every UDP
// candidate type but relayed, so a browser that can use UDP does; local preference
// 2^13 * 4 (direction-pref of passive) + the host's local preference scaled to 13 bits.
uint32_t tcpPassiveCandidatePriority(uint16_t localPreference, uint16_t component = 1);

// The server's side, written into every accepted m-section.
struct LocalTransport {
  std::string iceUfrag;                   // 4..256 ice-chars
  std::string icePwd;                     // 22..256 ice-chars
  Fingerprint fingerprint;                // of the server's DTLS certificate (sha-256)
  std::vector<HostCandidate> candidates;  // at least one; the first is the default address
  // ICE-TCP (RFC 6544): also a passive TCP candidate for each host candidate, at the same address
  // and port number (the media worker listens on TCP there too).
  bool tcpPassive = false;
};

struct SessionOrigin {
  uint64_t sessionId = 0;  // random, below 2^63 (JSEP §5.2.1)
  uint64_t version = 1;    // incremented for every new offer or answer on the session
};

// The peer's side, taken from the m-section that carries the BUNDLE transport.
struct RemoteTransport {
  std::string mid;
  IceParameters ice;
  std::vector<Fingerprint> fingerprints;  // only algorithms the server supports
  SetupRole setup = SetupRole::ActPass;
  std::vector<Candidate> candidates;
  bool endOfCandidates = false;
};

// Error codes: missing-ice-credentials, missing-fingerprint, unsupported-fingerprint,
// missing-setup, bad-setup (holdconn), remote-ice-lite.
Result<RemoteTransport> remoteTransport(const SessionDescription& description, const MediaDescription& carrier,
                                        const Capabilities& capabilities);

// v=0, o=- <id> <version> IN IP4 127.0.0.1, s=-, t=0 0, a=ice-lite.
Description startDescription(const SessionOrigin& origin);
// m= port and c= line from the default candidate (or port 0 / 0.0.0.0 if `rejected`).
void setDefaultAddress(MediaSection& section, const LocalTransport& transport, bool rejected);
// ice-ufrag, ice-pwd, fingerprint, setup.
void addTransportAttributes(MediaSection& section, const LocalTransport& transport, SetupRole setup);
// candidate lines (UDP, then TCP if transport.tcpPassive) and end-of-candidates (ICE-lite gathers
// nothing, so the list is complete).
void addCandidates(MediaSection& section, const LocalTransport& transport);
// "a=candidate:<foundation> 1 tcp <priority> <address> <port> typ host tcptype passive" for each
// host candidate; foundations "t1", "t2"... (a foundation differs by transport, RFC 8445 §5.1.1.3).
void addTcpCandidates(MediaSection& section, const LocalTransport& transport);

}  // namespace conclave::sdp
