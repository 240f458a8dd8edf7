#include "sdp/publish.h"

#include <algorithm>

namespace conclave::sdp {
namespace {

bool inGroup(const Group* group, std::string_view mid) {
  return group && std::find(group->mids.begin(), group->mids.end(), mid) != group->mids.end();
}

// The media codec: the first offered codec the SFU supports, with the SFU's own parameters
// and the feedback both sides support.
std::optional<Codec> pickCodec(const MediaDescription& offered, const Capabilities& capabilities,
                               const CodecCapability** matched) {
  for (const Codec& codec : offered.codecs) {
    const CodecCapability* capability = capabilities.findCodec(offered.kind, codec);
    if (!capability) continue;
    Codec answer{codec.payloadType, codec.name, codec.clockRate, codec.channels, capability->parameters, {}};
    for (const auto& feedback : codec.feedback)
      if (std::find(capability->feedback.begin(), capability->feedback.end(), feedback) != capability->feedback.end() &&
          std::find(answer.feedback.begin(), answer.feedback.end(), feedback) == answer.feedback.end())
        answer.feedback.push_back(feedback);
    *matched = capability;
    return answer;
  }
  return std::nullopt;
}

std::optional<Codec> pickRtx(const MediaDescription& offered, uint8_t mediaPayloadType) {
  for (const Codec& codec : offered.codecs)
    if (codec.rtxApt() == mediaPayloadType && codec.clockRate != 0)
      return Codec{codec.payloadType, codec.name, codec.clockRate, 1, {{"apt", std::to_string(mediaPayloadType)}}, {}};
  return std::nullopt;
}

std::vector<HeaderExtension> pickExtensions(const MediaDescription& offered, const Capabilities& capabilities,
                                            bool allowMixed) {
  std::vector<HeaderExtension> out;
  for (const auto& ext : offered.extensions) {
    const ExtensionCapability* capability = capabilities.findExtension(offered.kind, ext.uri);
    if (!capability || !capability->receive) continue;
    if (ext.id > 14 && !allowMixed) continue;  // would need two-byte headers
    if (ext.direction == Direction::RecvOnly || ext.direction == Direction::Inactive) continue;
    out.push_back(HeaderExtension{ext.id, ext.uri, std::nullopt, {}});
  }
  return out;
}

// Simulcast: the offered send layers become recv layers, at most maxSimulcastLayers, and only
// when the rid header extension is there to tell the layers apart.
void answerSimulcast(const MediaDescription& offered, const Capabilities& capabilities, AnswerMedia& media) {
  if (!offered.simulcast || offered.simulcast->send.empty()) return;
  bool haveRid = std::any_of(media.extensions.begin(), media.extensions.end(),
                             [](const HeaderExtension& e) { return e.uri == uri::kRtpStreamId; });
  if (!haveRid) return;
  Simulcast simulcast;
  for (const auto& stream : offered.simulcast->send) {
    if (simulcast.recv.size() >= capabilities.maxSimulcastLayers) break;
    std::vector<SimulcastStream> alternatives;
    for (const auto& alternative : stream) {
      auto rid =
          std::find_if(offered.rids.begin(), offered.rids.end(), [&](const Rid& r) { return r.id == alternative.rid; });
      if (rid == offered.rids.end()) continue;
      bool codecOk =
          rid->payloadTypes.empty() || std::any_of(rid->payloadTypes.begin(), rid->payloadTypes.end(),
                                                   [&](uint8_t pt) { return pt == media.codecs.front().payloadType; });
      if (!codecOk) continue;
      alternatives.push_back(alternative);
      Rid answerRid{rid->id, RidDirection::Recv, {}, {}};
      if (!rid->payloadTypes.empty()) answerRid.payloadTypes = {media.codecs.front().payloadType};
      media.rids.push_back(std::move(answerRid));
    }
    if (!alternatives.empty()) simulcast.recv.push_back(std::move(alternatives));
  }
  if (!simulcast.recv.empty()) media.simulcast = std::move(simulcast);
  else media.rids.clear();
}

AnswerMedia answerMedia(const MediaDescription& offered, const Group* bundle, const Capabilities& capabilities,
                        bool allowMixed) {
  AnswerMedia media;
  media.mid = offered.mid;
  media.kind = offered.kind;
  media.media = offered.media;
  media.protocol = offered.protocol;
  media.offeredFormats = offered.formats;
  auto reject = [&media](const char* reason) {
    media.rejectReason = reason;
    media.codecs.clear();
    media.extensions.clear();
    media.rids.clear();
    media.simulcast.reset();
    return media;
  };
  if (offered.rejected()) return reject("disabled");
  if (offered.kind != MediaKind::Audio && offered.kind != MediaKind::Video) return reject("unsupported-media");
  if (offered.protocol != kRtpProtocol) return reject("unsupported-protocol");
  if (!inGroup(bundle, offered.mid)) return reject("not-bundled");
  if (!offered.rtcpMux) return reject("rtcp-mux-required");
  const CodecCapability* capability = nullptr;
  auto codec = pickCodec(offered, capabilities, &capability);
  if (!codec) return reject("no-common-codec");
  media.codecs.push_back(*codec);
  if (capability->rtxPayloadType)
    if (auto rtx = pickRtx(offered, codec->payloadType)) media.codecs.push_back(*rtx);
  media.extensions = pickExtensions(offered, capabilities, allowMixed);
  media.rtcpRsize = offered.rtcpRsize;
  // The server only receives on this connection.
  bool peerSends = offered.direction == Direction::SendOnly || offered.direction == Direction::SendRecv;
  media.direction = peerSends ? Direction::RecvOnly : Direction::Inactive;
  media.ssrcs = offered.ssrcs;
  media.ssrcGroups = offered.ssrcGroups;
  media.msids = offered.msids;
  answerSimulcast(offered, capabilities, media);
  media.accepted = true;
  return media;
}

void writeAcceptedMedia(MediaSection& section, const AnswerMedia& media, const PublishAnswer& answer,
                        const LocalTransport& transport) {
  for (const auto& codec : media.codecs) section.formats.push_back(std::to_string(codec.payloadType));
  section.add("mid", media.mid);
  addTransportAttributes(section, transport, answer.localSetup);
  for (const auto& ext : media.extensions) addExtension(section, ext);
  section.add(std::string(toString(media.direction)));
  section.add("rtcp-mux");
  if (media.rtcpRsize) section.add("rtcp-rsize");
  for (const auto& codec : media.codecs) addCodecAttributes(section, codec);
  for (const auto& rid : media.rids) {
    std::string value = rid.id + " recv";
    if (!rid.payloadTypes.empty()) value += " pt=" + std::to_string(rid.payloadTypes.front());
    section.add("rid", value);
  }
  if (media.simulcast) {
    std::string list;
    for (const auto& stream : media.simulcast->recv) {
      if (!list.empty()) list += ';';
      for (size_t i = 0; i < stream.size(); ++i)
        list += (i ? "," : "") + std::string(stream[i].paused ? "~" : "") + stream[i].rid;
    }
    section.add("simulcast", "recv " + list);
  }
  addCandidates(section, transport);
}

}  // namespace

const Codec* AnswerMedia::mediaCodec() const {
  for (const auto& c : codecs)
    if (!c.isRtx()) return &c;
  return nullptr;
}

const Codec* AnswerMedia::rtxCodec() const {
  for (const auto& c : codecs)
    if (c.isRtx()) return &c;
  return nullptr;
}

Result<PublishAnswer> negotiatePublish(const SessionDescription& offer, const Capabilities& capabilities) {
  if (offer.media.empty()) return makeError("not-an-offer", 0, "the offer has no m= sections");
  const Group* bundle = offer.bundleGroup();
  if (!bundle || bundle->mids.empty())
    return makeError("missing-bundle", 0, "Conclave needs all media BUNDLEd on one transport");
  PublishAnswer answer;
  answer.extmapAllowMixed = capabilities.allowMixedExtmap && offer.extmapAllowMixed;
  for (const auto& offered : offer.media)
    answer.media.push_back(answerMedia(offered, bundle, capabilities, answer.extmapAllowMixed));
  // The BUNDLE transport is the offerer's tagged (first) m-section's (interpret() has checked
  // that every mid of the group exists; a hand-made description may not have).
  const MediaDescription* carrier = offer.findMid(bundle->mids.front());
  if (!carrier) return makeError("missing-bundle", 0, "the BUNDLE group names an unknown mid");
  auto remote = remoteTransport(offer, *carrier, capabilities);
  if (!remote) return remote.error();
  answer.remote = std::move(remote.value());
  answer.localSetup = answer.remote.setup == SetupRole::Passive ? SetupRole::Active : SetupRole::Passive;
  for (const auto& mid : bundle->mids)
    for (const auto& media : answer.media)
      if (media.mid == mid && media.accepted) answer.bundleMids.push_back(mid);
  return answer;
}

std::string writePublishAnswer(const PublishAnswer& answer, const LocalTransport& transport,
                               const SessionOrigin& origin) {
  Description d = startDescription(origin);
  if (!answer.bundleMids.empty()) {
    std::string group = "BUNDLE";
    for (const auto& mid : answer.bundleMids) group += ' ' + mid;
    d.add("group", group);
  }
  if (answer.extmapAllowMixed) d.add("extmap-allow-mixed");
  for (const auto& media : answer.media) {
    MediaSection& section = d.media.emplace_back();
    section.media = media.media;
    section.protocol = media.protocol;
    setDefaultAddress(section, transport, !media.accepted);
    if (!media.accepted) {
      // RFC 3264 §6: a rejected stream keeps at least one format; JSEP keeps the mid.
      section.formats = {media.offeredFormats.empty() ? std::string("0") : media.offeredFormats.front()};
      section.add("mid", media.mid);
      section.add("inactive");
      continue;
    }
    writeAcceptedMedia(section, media, answer, transport);
  }
  return serialize(d);
}

}  // namespace conclave::sdp
