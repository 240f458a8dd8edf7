#include "sdp/transport.h"

namespace conclave::sdp {

uint32_t hostCandidatePriority(uint16_t localPreference, uint16_t component) {
  constexpr uint32_t kHostTypePreference = 126;
  uint32_t componentPart = component >= 1 && component <= 256 ? 256u - component : 255u;
  return (kHostTypePreference << 24) + (uint32_t{localPreference} << 8) + componentPart;
}

uint32_t tcpPassiveCandidatePriority(uint16_t localPreference, uint16_t component) {
  constexpr uint32_t kHostTcpTypePreference = 90;
  constexpr uint32_t kPassiveDirectionPreference = 4;
  const uint32_t local = (kPassiveDirectionPreference << 13) | (uint32_t{localPreference} >> 3);
  uint32_t componentPart = component >= 1 && component <= 256 ? 256u - component : 255u;
  return (kHostTcpTypePreference << 24) + (local << 8) + componentPart;
}

Result<RemoteTransport> remoteTransport(const SessionDescription& description, const MediaDescription& carrier,
                                        const Capabilities& capabilities) {
  if (description.iceLite) return makeError("remote-ice-lite", 0, "both sides are ICE-lite: nobody would send checks");
  if (carrier.ice.ufrag.empty() || carrier.ice.pwd.empty())
    return makeError("missing-ice-credentials", carrier.line, "no ice-ufrag/ice-pwd");
  if (carrier.fingerprints.empty()) return makeError("missing-fingerprint", carrier.line, "no DTLS fingerprint");
  if (!carrier.setup) return makeError("missing-setup", carrier.line, "no a=setup");
  if (*carrier.setup == SetupRole::HoldConn)
    return makeError("bad-setup", carrier.line, "setup:holdconn is not supported");
  RemoteTransport remote;
  remote.mid = carrier.mid;
  remote.ice = carrier.ice;
  for (const auto& fingerprint : carrier.fingerprints)
    if (capabilities.supportsFingerprint(fingerprint)) remote.fingerprints.push_back(fingerprint);
  if (remote.fingerprints.empty())
    return makeError("unsupported-fingerprint", carrier.line, "no fingerprint with a supported hash");
  remote.setup = *carrier.setup;
  remote.candidates = carrier.candidates;
  remote.endOfCandidates = carrier.endOfCandidates;
  return remote;
}

Description startDescription(const SessionOrigin& origin) {
  Description d;
  d.origin.sessionId = std::to_string(origin.sessionId);
  d.origin.sessionVersion = std::to_string(origin.version);
  d.add("ice-lite");
  return d;
}

void setDefaultAddress(MediaSection& section, const LocalTransport& transport, bool rejected) {
  Connection connection;
  if (rejected || transport.candidates.empty()) {
    section.port = rejected ? 0 : 9;
  } else {
    const HostCandidate& first = transport.candidates.front();
    section.port = first.port;
    connection.address = first.address;
    if (first.address.find(':') != std::string::npos) connection.addrType = "IP6";
  }
  section.connections = {connection};
}

void addTransportAttributes(MediaSection& section, const LocalTransport& transport, SetupRole setup) {
  section.add("ice-ufrag", transport.iceUfrag);
  section.add("ice-pwd", transport.icePwd);
  section.add("fingerprint", formatFingerprint(transport.fingerprint));
  section.add("setup", std::string(toString(setup)));
}

void addCandidates(MediaSection& section, const LocalTransport& transport) {
  for (size_t i = 0; i < transport.candidates.size(); ++i) {
    const HostCandidate& host = transport.candidates[i];
    Candidate candidate;
    candidate.foundation = std::to_string(i + 1);
    candidate.component = 1;
    candidate.transport = "udp";
    candidate.priority = hostCandidatePriority(host.localPreference);
    candidate.address = host.address;
    candidate.port = host.port;
    candidate.type = "host";
    section.add("candidate", formatCandidate(candidate));
  }
  if (transport.tcpPassive) addTcpCandidates(section, transport);
  section.add("end-of-candidates");
}

void addTcpCandidates(MediaSection& section, const LocalTransport& transport) {
  for (size_t i = 0; i < transport.candidates.size(); ++i) {
    const HostCandidate& host = transport.candidates[i];
    Candidate candidate;
    candidate.foundation = "t" + std::to_string(i + 1);
    candidate.component = 1;
    candidate.transport = "tcp";
    candidate.priority = tcpPassiveCandidatePriority(host.localPreference);
    candidate.address = host.address;
    candidate.port = host.port;
    candidate.type = "host";
    candidate.extensions.emplace_back("tcptype", "passive");
    section.add("candidate", formatCandidate(candidate));
  }
}

}  // namespace conclave::sdp
