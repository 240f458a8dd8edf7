#include "sdp/subscribe.h"

#include <algorithm>

namespace conclave::sdp {

// ---- MidAllocator ---------------------------------------------------------------------------

std::optional<std::string> MidAllocator::acquire(MediaKind kind) {
  for (Slot& slot : mSlots)
    if (slot.state == SlotState::Inactive && slot.kind == kind) {
      slot.state = SlotState::Active;
      return slot.mid;
    }
  for (Slot& slot : mSlots)
    if (slot.state == SlotState::Stopped && slot.recyclable) {
      slot = Slot{std::to_string(mNextMid++), kind, SlotState::Active, false};
      return slot.mid;
    }
  if (mSlots.size() >= mMaxSlots) return std::nullopt;
  mSlots.push_back(Slot{std::to_string(mNextMid++), kind, SlotState::Active, false});
  return mSlots.back().mid;
}

bool MidAllocator::release(std::string_view mid) {
  for (Slot& slot : mSlots)
    if (slot.mid == mid && slot.state == SlotState::Active) {
      slot.state = SlotState::Inactive;
      return true;
    }
  return false;
}

bool MidAllocator::stop(std::string_view mid) {
  for (Slot& slot : mSlots)
    if (slot.mid == mid && slot.state != SlotState::Stopped) {
      slot.state = SlotState::Stopped;
      slot.recyclable = false;
      return true;
    }
  return false;
}

void MidAllocator::onNegotiated() {
  for (Slot& slot : mSlots)
    if (slot.state == SlotState::Stopped) slot.recyclable = true;
}

const MidAllocator::Slot* MidAllocator::find(std::string_view mid) const {
  for (const Slot& slot : mSlots)
    if (slot.mid == mid) return &slot;
  return nullptr;
}

namespace {

// ---- the offer ------------------------------------------------------------------------------

std::vector<Codec> offerCodecs(MediaKind kind, const Capabilities& capabilities) {
  for (const auto& capability : capabilities.codecs) {
    if (capability.kind != kind) continue;
    std::vector<Codec> codecs{Codec{capability.payloadType, capability.name, capability.clockRate, capability.channels,
                                    capability.parameters, capability.feedback}};
    if (capability.rtxPayloadType)
      codecs.push_back(Codec{*capability.rtxPayloadType,
                             "rtx",
                             capability.clockRate,
                             1,
                             {{"apt", std::to_string(capability.payloadType)}},
                             {}});
    return codecs;
  }
  return {};
}

bool validTrack(const OutgoingTrack& track) {
  auto id = [](const std::string& text) { return text.size() <= 64 && isToken(text); };
  bool cnameOk = !track.cname.empty() && track.cname.size() <= 255 &&
                 std::all_of(track.cname.begin(), track.cname.end(), [](char c) {
                   return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
                 });
  return cnameOk && id(track.streamId) && id(track.trackId) && (!track.rtxSsrc || *track.rtxSsrc != track.ssrc);
}

void addSsrcs(MediaSection& section, const OutgoingTrack& track) {
  std::string msid = track.streamId + ' ' + track.trackId;
  if (track.rtxSsrc)
    section.add("ssrc-group", "FID " + std::to_string(track.ssrc) + ' ' + std::to_string(*track.rtxSsrc));
  std::vector<uint32_t> ssrcs{track.ssrc};
  if (track.rtxSsrc) ssrcs.push_back(*track.rtxSsrc);
  for (uint32_t ssrc : ssrcs) {
    section.add("ssrc", std::to_string(ssrc) + " cname:" + track.cname);
    section.add("ssrc", std::to_string(ssrc) + " msid:" + msid);
  }
}

Result<MediaSection> offerSection(const MidAllocator::Slot& slot, const OutgoingTrack* track,
                                  const LocalTransport& transport, const Capabilities& capabilities) {
  MediaSection section;
  section.media = std::string(toString(slot.kind));
  section.protocol = std::string(kRtpProtocol);
  std::vector<Codec> codecs = offerCodecs(slot.kind, capabilities);
  if (codecs.empty()) return makeError("no-codec", 0, "no codec for " + section.media);
  for (const auto& codec : codecs) section.formats.push_back(std::to_string(codec.payloadType));
  bool stopped = slot.state == SlotState::Stopped;
  setDefaultAddress(section, transport, stopped);
  section.add("mid", slot.mid);
  if (stopped) {
    section.add("inactive");
    for (const auto& codec : codecs) addCodecAttributes(section, codec);
    return section;
  }
  addTransportAttributes(section, transport, SetupRole::ActPass);
  for (const auto& capability : capabilities.extensions)
    if (capability.kind == slot.kind && capability.send)
      addExtension(section, HeaderExtension{capability.id, capability.uri, std::nullopt, {}});
  section.add(track ? "sendonly" : "inactive");
  if (track) section.add("msid", track->streamId + ' ' + track->trackId);
  section.add("rtcp-mux");
  section.add("rtcp-rsize");
  for (const auto& codec : codecs) addCodecAttributes(section, codec);
  if (track) addSsrcs(section, *track);
  addCandidates(section, transport);
  return section;
}

const OutgoingTrack* trackFor(const std::vector<OutgoingTrack>& tracks, std::string_view mid) {
  for (const auto& track : tracks)
    if (track.mid == mid) return &track;
  return nullptr;
}

}  // namespace

Result<std::string> buildSubscribeOffer(const std::vector<MidAllocator::Slot>& slots,
                                        const std::vector<OutgoingTrack>& tracks, const LocalTransport& transport,
                                        const SessionOrigin& origin, const Capabilities& capabilities) {
  for (const auto& track : tracks) {
    auto slot = std::find_if(slots.begin(), slots.end(), [&](const auto& s) { return s.mid == track.mid; });
    if (slot == slots.end() || slot->state != SlotState::Active)
      return makeError("unknown-mid", 0, "track for mid " + track.mid + " has no active slot");
    if (slot->kind != track.kind) return makeError("kind-mismatch", 0, "track kind differs from its slot");
    if (!validTrack(track)) return makeError("bad-track", 0, "bad cname, msid or ssrc for mid " + track.mid);
  }
  Description d = startDescription(origin);
  std::string group = "BUNDLE";
  for (const auto& slot : slots) {
    const OutgoingTrack* track = trackFor(tracks, slot.mid);
    if (slot.state == SlotState::Active && !track)
      return makeError("missing-track", 0, "active mid " + slot.mid + " has no track");
    auto section = offerSection(slot, slot.state == SlotState::Active ? track : nullptr, transport, capabilities);
    if (!section) return section.error();
    if (slot.state != SlotState::Stopped) group += ' ' + slot.mid;
    d.media.push_back(std::move(section.value()));
  }
  if (group != "BUNDLE") d.add("group", group);
  return serialize(d);
}

// ---- the answer -----------------------------------------------------------------------------

namespace {

std::optional<Error> checkAnswerMedia(const MediaDescription& offered, const MediaDescription& answered,
                                      const Group* bundle, SubscribeAnswerMedia& out) {
  auto fail = [&](const char* code, std::string message) {
    return makeError(code, answered.line, std::move(message) + " (mid " + answered.mid + ")");
  };
  if (answered.direction != Direction::Inactive &&
      !(answered.direction == Direction::RecvOnly && offered.direction == Direction::SendOnly))
    return fail("bad-direction", "the browser may only receive");
  if (!answered.rtcpMux) return fail("rtcp-mux-required", "no rtcp-mux");
  if (!bundle || std::find(bundle->mids.begin(), bundle->mids.end(), answered.mid) == bundle->mids.end())
    return fail("missing-bundle", "section not in the BUNDLE group");
  for (const Codec& codec : answered.codecs) {
    const Codec* mine = offered.codec(codec.payloadType);
    if (!mine || !equalsIgnoreCase(mine->name, codec.name) || mine->clockRate != codec.clockRate)
      return fail("unknown-codec", "codec " + codec.name + " was not offered");
  }
  if (std::none_of(answered.codecs.begin(), answered.codecs.end(), [](const Codec& c) { return !c.isRtx(); }))
    return fail("no-common-codec", "no media codec accepted");
  for (const auto& ext : answered.extensions) {
    const HeaderExtension* mine = offered.extension(ext.uri);
    if (!mine || mine->id != ext.id) return fail("bad-extmap", "extension " + ext.uri + " not offered with that id");
  }
  out.accepted = true;
  out.direction = answered.direction;
  out.codecs = answered.codecs;
  out.extensions = answered.extensions;
  return std::nullopt;
}

}  // namespace

Result<SubscribeAnswer> checkSubscribeAnswer(const SessionDescription& offer, const SessionDescription& answer,
                                             const Capabilities& capabilities) {
  if (offer.media.size() != answer.media.size())
    return makeError("answer-mismatch", 0, "the answer has a different number of m= sections");
  SubscribeAnswer result;
  const Group* bundle = answer.bundleGroup();
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& offered = offer.media[i];
    const MediaDescription& answered = answer.media[i];
    if (offered.mid != answered.mid || offered.kind != answered.kind)
      return makeError("answer-mismatch", answered.line, "m= section " + std::to_string(i) + " differs from the offer");
    if (offered.rejected() && !answered.rejected())
      return makeError("answer-mismatch", answered.line, "a stopped section was accepted");
    SubscribeAnswerMedia& media = result.media.emplace_back();
    media.mid = answered.mid;
    media.kind = answered.kind;
    if (answered.rejected()) continue;
    if (auto error = checkAnswerMedia(offered, answered, bundle, media)) return std::move(*error);
  }
  if (!bundle || bundle->mids.empty()) return result;
  const MediaDescription* carrier = answer.findMid(bundle->mids.front());
  if (!carrier) return makeError("missing-bundle", 0, "the BUNDLE group names an unknown mid");
  auto remote = remoteTransport(answer, *carrier, capabilities);
  if (!remote) return remote.error();
  if (remote->setup != SetupRole::Active && remote->setup != SetupRole::Passive)
    return makeError("bad-setup", 0, "an answer must choose setup:active or setup:passive");
  result.remote = std::move(remote.value());
  result.localSetup = result.remote.setup == SetupRole::Active ? SetupRole::Passive : SetupRole::Active;
  result.bundleMids = bundle->mids;
  return result;
}

}  // namespace conclave::sdp
