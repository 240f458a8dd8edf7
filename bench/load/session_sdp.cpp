#include "load/session_sdp.h"

#include <algorithm>

#include "clients/media_clients.h"
#include "sdp/capabilities.h"
#include "sdp/sdp.h"

namespace conclave::bench::load {
namespace {

using sdp::MediaSection;

sdp::Connection connectionOf(const net::Endpoint& endpoint) {
  return {"IN", endpoint.isV6() ? "IP6" : "IP4", ipOf(endpoint)};
}

sdp::Description startDescription(uint64_t sessionId, uint64_t version) {
  sdp::Description d;
  d.origin.sessionId = std::to_string(sessionId);
  d.origin.sessionVersion = std::to_string(version);
  return d;
}

// c=, a=rtcp, the candidate, ICE and DTLS lines, as Chromium orders them after gathering.
void addTransport(MediaSection& section, const LocalEndpoint& local, std::string_view setup) {
  section.connections = {connectionOf(local.address)};
  section.add("rtcp", std::to_string(local.address.port()) + " " + connectionOf(local.address).netType + " " +
                          connectionOf(local.address).addrType + " " + connectionOf(local.address).address);
  sdp::Candidate candidate;
  candidate.foundation = "1";
  candidate.transport = "udp";
  candidate.priority = 2122260223;  // a host candidate's priority as Chromium computes it
  candidate.address = ipOf(local.address);
  candidate.port = local.address.port();
  candidate.type = "host";
  candidate.extensions = {{"generation", "0"}};
  section.add("candidate", sdp::formatCandidate(candidate));
  section.add("ice-ufrag", local.ice.ufrag);
  section.add("ice-pwd", local.ice.pwd);
  section.add("ice-options", "trickle");
  section.add("fingerprint", sdp::formatFingerprint(local.fingerprint));
  section.add("setup", std::string(setup));
}

void addExtensions(MediaSection& section, std::initializer_list<std::pair<uint8_t, std::string_view>> extensions) {
  for (const auto& [id, uri] : extensions) section.add("extmap", std::to_string(id) + " " + std::string(uri));
}

MediaSection audioSection(const LocalEndpoint& local, const PublishTracks& tracks) {
  MediaSection s;
  s.media = "audio";
  s.port = local.address.port();
  s.protocol = std::string(sdp::kRtpProtocol);
  s.formats = {std::to_string(kOpusPt)};
  addTransport(s, local, "actpass");
  s.add("mid", tracks.audioMid);
  addExtensions(s, {{kAudioLevelId, sdp::uri::kAudioLevel},
                    {kAbsSendTimeId, sdp::uri::kAbsSendTime},
                    {kTccId, sdp::uri::kTransportCc},
                    {kMidId, sdp::uri::kMid}});
  s.add("sendonly");
  s.add("msid", tracks.cname + " microphone");
  s.add("rtcp-mux");
  s.add("rtcp-rsize");
  s.add("rtpmap", std::to_string(kOpusPt) + " opus/48000/2");
  s.add("rtcp-fb", std::to_string(kOpusPt) + " transport-cc");
  s.add("fmtp", std::to_string(kOpusPt) + " minptime=10;useinbandfec=1");
  const std::string ssrc = std::to_string(tracks.audioSsrc);
  s.add("ssrc", ssrc + " cname:" + tracks.cname);
  s.add("ssrc", ssrc + " msid:" + tracks.cname + " microphone");
  return s;
}

MediaSection videoSection(const LocalEndpoint& local, const PublishTracks& tracks) {
  MediaSection s;
  s.media = "video";
  s.port = local.address.port();
  s.protocol = std::string(sdp::kRtpProtocol);
  s.formats = {std::to_string(kVp8Pt), std::to_string(kRtxPt)};
  addTransport(s, local, "actpass");
  s.add("mid", tracks.videoMid);
  addExtensions(s, {{kAbsSendTimeId, sdp::uri::kAbsSendTime},
                    {kTccId, sdp::uri::kTransportCc},
                    {kMidId, sdp::uri::kMid},
                    {kRidId, sdp::uri::kRtpStreamId},
                    {kRepairedRidId, sdp::uri::kRepairedRtpStreamId}});
  s.add("sendonly");
  s.add("msid", tracks.cname + " camera");
  s.add("rtcp-mux");
  s.add("rtcp-rsize");
  const std::string vp8 = std::to_string(kVp8Pt);
  s.add("rtpmap", vp8 + " VP8/90000");
  for (const char* fb : {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}) s.add("rtcp-fb", vp8 + " " + fb);
  s.add("rtpmap", std::to_string(kRtxPt) + " rtx/90000");
  s.add("fmtp", std::to_string(kRtxPt) + " apt=" + vp8);
  std::string simulcast;
  for (const char* rid : kRids) {
    s.add("rid", std::string(rid) + " send");
    simulcast += (simulcast.empty() ? "" : ";") + std::string(rid);
  }
  s.add("simulcast", "send " + simulcast);
  return s;
}

// The first UDP candidate of `family` in the bundle's first section.
std::optional<net::Endpoint> pickCandidate(const sdp::MediaDescription& m, net::Endpoint::Family family) {
  for (const auto& c : m.candidates) {
    if (c.transport != "udp" && c.transport != "UDP") continue;
    const bool v6 = c.address.find(':') != std::string::npos;
    auto endpoint = net::Endpoint::parse((v6 ? "[" + c.address + "]" : c.address) + ":" + std::to_string(c.port));
    if (endpoint && endpoint->family() == family) return endpoint;
  }
  return std::nullopt;
}

common::Result<RemoteEndpoint, std::string> remoteOf(const sdp::SessionDescription& d, net::Endpoint::Family family) {
  const sdp::Group* bundle = d.bundleGroup();
  const sdp::MediaDescription* carrier = bundle && !bundle->mids.empty() ? d.findMid(bundle->mids.front()) : nullptr;
  if (!carrier) return std::string("no BUNDLE group");
  RemoteEndpoint r;
  r.ice = {carrier->ice.ufrag, carrier->ice.pwd};
  if (r.ice.ufrag.empty() || r.ice.pwd.empty()) return std::string("no ICE credentials");
  auto address = pickCandidate(*carrier, family);
  if (!address) return std::string("no UDP candidate of this address family");
  r.address = *address;
  auto fingerprint = std::find_if(carrier->fingerprints.begin(), carrier->fingerprints.end(),
                                  [](const sdp::Fingerprint& f) { return f.algorithm == "sha-256"; });
  if (fingerprint == carrier->fingerprints.end()) return std::string("no sha-256 fingerprint");
  r.fingerprint = {fingerprint->algorithm, fingerprint->bytes};
  // The server's setup:active makes us the DTLS server; passive and actpass (which we answer
  // active) the client.
  r.localRole = carrier->setup == sdp::SetupRole::Active ? dtls::DtlsRole::Server : dtls::DtlsRole::Client;
  r.iceLite = d.iceLite;
  return r;
}

ReceivedTrack trackOf(const sdp::MediaDescription& m) {
  ReceivedTrack t;
  t.mid = m.mid;
  t.video = m.kind == sdp::MediaKind::Video;
  t.clockRate = t.video ? 90000 : 48000;
  for (const auto& codec : m.codecs)
    if (!codec.isRtx()) {
      t.clockRate = codec.clockRate;
      break;
    }
  for (const auto& group : m.ssrcGroups)
    if (group.semantics == "FID" && group.ssrcs.size() == 2) {
      t.ssrc = group.ssrcs[0];
      t.rtxSsrc = group.ssrcs[1];
    }
  if (t.ssrc == 0 && !m.ssrcs.empty()) t.ssrc = m.ssrcs.front().ssrc;
  t.active = !m.rejected() && t.ssrc != 0 &&
             (m.direction == sdp::Direction::SendOnly || m.direction == sdp::Direction::SendRecv);
  return t;
}

// Our answer to one section of the offer.
MediaSection answerSection(const sdp::MediaDescription& offered, const sdp::MediaSection& raw,
                           const LocalEndpoint& local) {
  MediaSection s;
  s.media = offered.media;
  s.protocol = offered.protocol;
  s.formats = raw.formats;
  if (offered.rejected()) {
    s.port = 0;
    s.connections = {{"IN", "IP4", "0.0.0.0"}};
    s.add("mid", offered.mid);
    return s;
  }
  s.port = local.address.port();
  addTransport(s, local, "active");
  s.add("mid", offered.mid);
  for (const auto& ext : offered.extensions) sdp::addExtension(s, {ext.id, ext.uri, std::nullopt, {}});
  const bool receive = offered.direction == sdp::Direction::SendOnly;
  s.add(receive ? "recvonly" : "inactive");
  s.add("rtcp-mux");
  if (offered.rtcpRsize) s.add("rtcp-rsize");
  for (const auto& codec : offered.codecs) sdp::addCodecAttributes(s, codec);
  return s;
}

}  // namespace

std::string ipOf(const net::Endpoint& endpoint) {
  std::string text = endpoint.unmapped().toString();  // "a.b.c.d:port" or "[v6]:port"
  text.erase(text.rfind(':'));
  if (!text.empty() && text.front() == '[') text = text.substr(1, text.size() - 2);
  return text;
}

net::Endpoint withPort(const net::Endpoint& endpoint, uint16_t port) {
  const std::string ip = ipOf(endpoint);
  const bool v6 = ip.find(':') != std::string::npos;
  return net::Endpoint::parse((v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port)).value_or(net::Endpoint());
}

std::string buildPublishOffer(const LocalEndpoint& local, const PublishTracks& tracks, uint64_t sessionId) {
  sdp::Description d = startDescription(sessionId, 2);
  std::string bundle = "BUNDLE";
  if (tracks.audio) bundle += " " + tracks.audioMid;
  if (tracks.video) bundle += " " + tracks.videoMid;
  d.add("group", bundle);
  d.add("msid-semantic", " WMS");
  if (tracks.audio) d.media.push_back(audioSection(local, tracks));
  if (tracks.video) d.media.push_back(videoSection(local, tracks));
  return sdp::serialize(d);
}

common::Result<RemoteEndpoint, std::string> readPublishAnswer(std::string_view answer, net::Endpoint::Family family) {
  auto parsed = sdp::parseSessionDescription(answer);
  if (!parsed)
    return "the answer does not parse: " + parsed.error().code + " (line " + std::to_string(parsed.error().line) + ")";
  for (const auto& m : parsed->media)
    if (m.rejected()) return "the server rejected section " + m.mid;
  return remoteOf(parsed.value(), family);
}

common::Result<SubscribeOffer, std::string> answerSubscribeOffer(std::string_view offer, const LocalEndpoint& local,
                                                                 net::Endpoint::Family family, uint64_t sessionId,
                                                                 uint64_t version) {
  sdp::Limits limits;
  limits.maxBytes = 1024 * 1024;  // the protocol's bound on a subscribe offer
  auto raw = sdp::parse(offer, limits);
  if (!raw) return "the offer does not parse: " + raw.error().code + " (line " + std::to_string(raw.error().line) + ")";
  auto parsed = sdp::interpret(raw.value());
  if (!parsed)
    return "the offer does not parse: " + parsed.error().code + " (line " + std::to_string(parsed.error().line) + ")";
  SubscribeOffer result;
  auto remote = remoteOf(parsed.value(), family);
  if (!remote) return remote.error();
  result.remote = std::move(remote.value());
  sdp::Description d = startDescription(sessionId, version);
  std::string bundle = "BUNDLE";
  for (size_t i = 0; i < parsed->media.size(); ++i) {
    const sdp::MediaDescription& m = parsed->media[i];
    if (m.kind != sdp::MediaKind::Audio && m.kind != sdp::MediaKind::Video)
      return std::string("a section is neither audio nor video");
    result.tracks.push_back(trackOf(m));
    if (const auto* cc = m.extension(sdp::uri::kTransportCc)) result.transportCcId = uint8_t(cc->id);
    d.media.push_back(answerSection(m, raw->media[i], local));
    if (!m.rejected()) bundle += " " + m.mid;
  }
  d.add("group", bundle);
  d.add("msid-semantic", " WMS");
  result.answer = sdp::serialize(d);
  return result;
}

}  // namespace conclave::bench::load
