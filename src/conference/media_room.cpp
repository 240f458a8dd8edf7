#include "conference/media_room.h"

#include <algorithm>
#include <array>

#include "common/log.h"
#include "common/random.h"

namespace conclave::conference {
namespace {

constexpr common::Duration kBatchDelay = std::chrono::milliseconds(50);

sfu::MediaKind toSfu(sdp::MediaKind kind) {
  return kind == sdp::MediaKind::Video ? sfu::MediaKind::Video : sfu::MediaKind::Audio;
}

uint64_t randomSessionId() { return common::randomU64() >> 1; }

MediaError sdpError(common::ErrorCode code, const sdp::Error& e) {
  std::string msg = e.code;
  if (e.line) msg += " (line " + std::to_string(e.line) + ")";
  if (!e.message.empty()) msg += ": " + e.message;
  return MediaError{code, msg};
}

// The media SSRC of a section: the first SSRC that is not the second member of an FID group.
std::optional<std::pair<uint32_t, std::optional<uint32_t>>> mediaSsrcs(const sdp::AnswerMedia& m) {
  std::optional<uint32_t> rtx;
  uint32_t primary = 0;
  for (const auto& g : m.ssrcGroups) {
    if (g.semantics == "FID" && g.ssrcs.size() == 2) {
      primary = g.ssrcs[0];
      rtx = g.ssrcs[1];
      break;
    }
  }
  if (primary == 0 && !m.ssrcs.empty()) primary = m.ssrcs.front().ssrc;
  if (primary == 0) return std::nullopt;
  return std::make_pair(primary, rtx);
}

// Simulcast layers of a video section, lowest first (the first alternative of each stream; empty
// without simulcast). SDP does not say which layer is which: rids of the two common naming
// schemes are put in order ("q" < "h" < "f", as the web client sends them, and "l" < "m" < "h");
// other names keep the order of the offer, which is then taken as lowest first.
std::vector<std::string> simulcastRids(const sdp::AnswerMedia& m) {
  std::vector<std::string> rids;
  if (m.kind != sdp::MediaKind::Video || !m.simulcast) return rids;
  for (const auto& stream : m.simulcast->recv)
    if (!stream.empty()) rids.push_back(stream.front().rid);
  static constexpr std::array<std::string_view, 3> kQuarterHalfFull{"q", "h", "f"};
  static constexpr std::array<std::string_view, 3> kLowMidHigh{"l", "m", "h"};
  for (const auto* scheme : {&kQuarterHalfFull, &kLowMidHigh}) {
    auto rank = [&](const std::string& rid) {
      return std::find(scheme->begin(), scheme->end(), rid) - scheme->begin();
    };
    const bool all = std::all_of(rids.begin(), rids.end(), [&](const std::string& rid) {
      return rank(rid) < static_cast<std::ptrdiff_t>(scheme->size());
    });
    if (!all) continue;
    std::stable_sort(rids.begin(), rids.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    break;
  }
  return rids;
}

uint8_t extensionId(const sdp::AnswerMedia& m, std::string_view uri) {
  for (const auto& ext : m.extensions)
    if (ext.uri == uri) return static_cast<uint8_t>(ext.id);
  return 0;
}

// The source the browser declared for the section `mid` ("" when it declared none).
std::string_view declaredSource(const std::vector<TrackSource>& sources, const std::string& mid) {
  for (const auto& s : sources)
    if (s.mid == mid) return s.source;
  return {};
}

}  // namespace

std::string effectiveSource(sdp::MediaKind kind, std::string_view declared) {
  if (kind == sdp::MediaKind::Video) return declared == "screen" ? "screen" : "camera";
  return declared == "screen-audio" ? "screen-audio" : "microphone";
}

MediaRoom::MediaRoom(std::string roomId, sfu::MediaWorker& worker, const MediaEnvironment& env, Placement* placement)
    : mRoomId(std::move(roomId)), mWorker(worker), mEnv(env), mPlacement(placement) {}

MediaRoom::~MediaRoom() {
  *mAlive = false;
  // The Router goes, and with it every transport, those other workers host included.
  for (auto& [id, p] : mParticipants) {
    p.subscriptions.clear();
    countStreams(p);
  }
  mWorker.post([id = mRoomId](sfu::MediaWorker& w) { w.closeRouter(id); });
}

void MediaRoom::post(std::function<void(sfu::Router&)> task) {
  mWorker.post([id = mRoomId, task = std::move(task)](sfu::MediaWorker& w) { task(w.router(id)); });
}

common::TimePoint MediaRoom::now() const {
  return mEnv.clock ? mEnv.clock->now() : common::TimePoint(std::chrono::steady_clock::now());
}

std::optional<MediaError> MediaRoom::chargeIceRestart(Participant& p) {
  if (p.iceRestarts.take(now())) return std::nullopt;
  return MediaError{common::ErrorCode::RateLimited, "too many ICE restarts; try again in a few seconds"};
}

sdp::LocalTransport MediaRoom::localTransport(const ice::IceCredentials& ice, const sfu::MediaWorker& worker) const {
  sdp::LocalTransport t;
  t.iceUfrag = ice.ufrag;
  t.icePwd = ice.pwd;
  t.fingerprint = mEnv.fingerprint;
  // One host candidate per announced address (IPv4 or IPv6, all on the worker's one dual-stack
  // port), in the operator's order: each a local preference below the one before, so a browser
  // that finds several pairs working prefers the first address.
  for (size_t i = 0; i < mEnv.announcedAddresses.size(); ++i)
    t.candidates.push_back({mEnv.announcedAddresses[i], worker.port(), static_cast<uint16_t>(65535 - i)});
  t.tcpPassive = true;  // the worker listens on TCP at the same port number (ICE-TCP)
  return t;
}

void MediaRoom::countStreams(Participant& p) {
  if (!p.subscribeWorker || !mPlacement) return;
  const size_t now = p.subscriptions.size();
  mPlacement->addStreams(*p.subscribeWorker, static_cast<int64_t>(now) - static_cast<int64_t>(p.countedStreams));
  p.countedStreams = now;
}

const sfu::MediaWorker* MediaRoom::subscribeWorker(const std::string& participantId) const {
  auto it = mParticipants.find(participantId);
  return it == mParticipants.end() ? nullptr : it->second.subscribeWorker;
}

void MediaRoom::addParticipant(const std::string& participantId, MediaPeer& peer) {
  auto& p = mParticipants.try_emplace(participantId, now()).first->second;
  p.peer = &peer;
  p.publishOrigin.sessionId = randomSessionId();
  p.subscribeOrigin.sessionId = randomSessionId();
  post([participantId](sfu::Router& r) { r.addParticipant(participantId); });
  // The newcomer receives everything already published.
  if (!mProducers.empty()) {
    p.dirty = true;
    scheduleFlush(participantId);
  }
}

void MediaRoom::removeParticipant(const std::string& participantId) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  // Its subscribe transport goes with it (from whichever worker hosts it).
  it->second.subscriptions.clear();
  countStreams(it->second);
  mParticipants.erase(it);
  bool hadProducers =
      std::erase_if(mProducers, [&](const auto& e) { return e.second.participantId == participantId; }) > 0;
  post([participantId](sfu::Router& r) { r.removeParticipant(participantId); });
  if (hadProducers) markAllSubscribersDirty(participantId);
}

common::Result<std::string, MediaError> MediaRoom::publish(const std::string& participantId, std::string_view offer,
                                                           const std::vector<TrackSource>& sources,
                                                           const SourceSet& forbidden) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return MediaError{common::ErrorCode::InvalidState, "not in this room"};
  Participant& p = it->second;
  auto parsed = sdp::parseSessionDescription(offer);
  if (!parsed) return sdpError(common::ErrorCode::BadSdp, parsed.error());
  if (size_t ignored = parsed->ignoredAttributes())
    common::logger("media")->debug("publish offer: {} lines for unlisted payload types ignored", ignored);
  auto answer = sdp::negotiatePublish(parsed.value(), mEnv.capabilities);
  if (!answer) return sdpError(common::ErrorCode::NegotiationFailed, answer.error());
  if (auto refused = checkTrackBudget(participantId, answer.value())) return *refused;
  if (auto refused = checkPolicy(answer.value(), sources, forbidden)) return *refused;

  const auto& remote = answer->remote;
  bool restart = p.publishIce && p.publishRemoteUfrag != remote.ice.ufrag;
  if (restart)
    if (auto refused = chargeIceRestart(p)) return *refused;
  if (!p.publishIce || restart) p.publishIce = ice::IceCredentials::generate();
  p.publishRemoteUfrag = remote.ice.ufrag;
  p.publishOrigin.version++;
  std::string sdpText =
      sdp::writePublishAnswer(answer.value(), localTransport(*p.publishIce, mWorker), p.publishOrigin);

  sfu::TransportSpec spec;
  spec.localIce = *p.publishIce;
  spec.remoteIce = ice::IceCredentials{remote.ice.ufrag, remote.ice.pwd};
  if (!remote.fingerprints.empty())
    spec.remoteFingerprint =
        transport::RemoteFingerprint{remote.fingerprints.front().algorithm, remote.fingerprints.front().bytes};
  spec.dtlsRole = answer->localSetup == sdp::SetupRole::Active ? dtls::DtlsRole::Client : dtls::DtlsRole::Server;
  post([participantId, spec](sfu::Router& r) { r.setTransport(participantId, sfu::TransportRole::Publish, spec); });
  updateProducers(participantId, answer.value(), sources);
  return sdpText;
}

// A sending section the SFU accepted is a track (a producer once it is published).
std::optional<MediaError> MediaRoom::checkTrackBudget(const std::string& participantId,
                                                      const sdp::PublishAnswer& answer) const {
  size_t audio = 0, video = 0;
  for (const auto& m : answer.media) {
    if (!m.accepted || m.direction != sdp::Direction::RecvOnly) continue;
    ++(m.kind == sdp::MediaKind::Video ? video : audio);
  }
  if (audio > mEnv.maxAudioTracks || video > mEnv.maxVideoTracks) {
    return MediaError{common::ErrorCode::TooManyTracks, "a publish may send at most " +
                                                            std::to_string(mEnv.maxAudioTracks) + " audio and " +
                                                            std::to_string(mEnv.maxVideoTracks) + " video tracks"};
  }
  // The room's tracks once this publish replaces the participant's own.
  size_t others = 0;
  for (const auto& [id, prod] : mProducers)
    if (prod.participantId != participantId) ++others;
  if (others + audio + video > mEnv.maxRoomTracks) {
    return MediaError{common::ErrorCode::TooManyTracks, "the room already has " + std::to_string(others) + " of its " +
                                                            std::to_string(mEnv.maxRoomTracks) + " published tracks"};
  }
  return std::nullopt;
}

std::optional<MediaError> MediaRoom::checkPolicy(const sdp::PublishAnswer& answer,
                                                 const std::vector<TrackSource>& sources,
                                                 const SourceSet& forbidden) const {
  if (forbidden.empty()) return std::nullopt;
  for (const auto& m : answer.media) {
    if (!m.accepted || m.direction != sdp::Direction::RecvOnly) continue;
    std::string source = effectiveSource(m.kind, declaredSource(sources, m.mid));
    if (forbidden.count(source))
      return MediaError{common::ErrorCode::ForbiddenByPolicy,
                        "the meeting's policy does not allow you to share your " + source};
  }
  return std::nullopt;
}

void MediaRoom::setPausedSources(const std::string& participantId, SourceSet paused) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  it->second.paused = std::move(paused);
  for (auto& [id, prod] : mProducers) {
    if (prod.participantId != participantId) continue;
    bool pause = it->second.paused.count(prod.source) > 0;
    if (pause == prod.paused) continue;
    prod.paused = pause;
    post([id = id, pause](sfu::Router& r) { r.setProducerPaused(id, pause); });
  }
}

int layerForWidth(uint32_t width) {
  if (width <= 320) return 0;
  if (width <= 640) return 1;
  return 2;
}

void MediaRoom::setVideoPreferences(const std::string& participantId, const std::vector<VideoPreference>& preferences) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  for (const auto& preference : preferences) {
    for (auto& [producerId, sub] : it->second.subscriptions) {
      if (sub.track.mid != preference.mid || sub.track.kind != sdp::MediaKind::Video) continue;
      const bool pause = preference.width == 0 || preference.height == 0;
      const int layer = layerForWidth(preference.width);
      if (pause != sub.paused) {
        sub.paused = pause;
        post([id = sub.consumerId, pause](sfu::Router& r) { r.setConsumerPaused(id, pause); });
      }
      if (!pause && layer != sub.maxLayer) {
        sub.maxLayer = layer;
        post([id = sub.consumerId, layer](sfu::Router& r) { r.setConsumerMaxLayer(id, layer); });
      }
      break;
    }
  }
}

SourceSet MediaRoom::publishedSources(const std::string& participantId) const {
  SourceSet out;
  for (const auto& [id, prod] : mProducers)
    if (prod.participantId == participantId) out.insert(prod.source);
  return out;
}

void MediaRoom::updateProducers(const std::string& participantId, const sdp::PublishAnswer& answer,
                                const std::vector<TrackSource>& sources) {
  bool changed = false;
  std::vector<uint64_t> keep;
  for (const auto& m : answer.media) {
    if (!m.accepted || m.direction != sdp::Direction::RecvOnly) continue;
    const sdp::Codec* codec = m.mediaCodec();
    const auto rids = simulcastRids(m);
    // Simulcast layers' SSRCs are learned from their first packets (rid extension).
    auto ssrcs =
        rids.empty() ? mediaSsrcs(m) : std::make_optional(std::make_pair(uint32_t{0}, std::optional<uint32_t>()));
    if (!codec || !ssrcs) {
      common::logger("media")->info("a published section has no SSRC; it is not forwarded");
      continue;
    }
    std::string source = effectiveSource(m.kind, declaredSource(sources, m.mid));
    const bool paused = mParticipants.at(participantId).paused.count(source) > 0;
    // An existing producer for the same section and stream stays as it is.
    auto existing = std::find_if(mProducers.begin(), mProducers.end(), [&](const auto& e) {
      return e.second.participantId == participantId && e.second.mid == m.mid && e.second.ssrc == ssrcs->first;
    });
    // A track keeps the source it was published as (the client keeps one section per source): a
    // muted microphone declared as screen-audio in the next offer stays a muted microphone.
    if (existing != mProducers.end()) {
      keep.push_back(existing->first);
      continue;
    }
    sfu::ProducerSpec spec;
    spec.id = mNextId++;
    spec.kind = toSfu(m.kind);
    spec.ssrc = ssrcs->first;
    spec.rtxSsrc = ssrcs->second;
    spec.payloadType = codec->payloadType;
    spec.clockRate = codec->clockRate;
    spec.paused = paused;
    if (!rids.empty()) {
      spec.rids = rids;
      spec.mid = m.mid;
      spec.midExtensionId = extensionId(m, sdp::uri::kMid);
      spec.ridExtensionId = extensionId(m, sdp::uri::kRtpStreamId);
      spec.repairedRidExtensionId = extensionId(m, sdp::uri::kRepairedRtpStreamId);
    }
    for (const auto& ext : m.extensions) {
      const auto* cap = mEnv.capabilities.findExtension(m.kind, ext.uri);
      // Routing is the publisher's own business: removed. The transport-wide sequence number is
      // kept under the subscribers' id: the router reads it there and each subscriber transport
      // overwrites it with its own.
      bool forward = cap && cap->send && ext.uri != sdp::uri::kMid;
      spec.extensionMap.emplace_back(static_cast<uint8_t>(ext.id), forward ? static_cast<uint8_t>(cap->id) : 0);
      if (forward && ext.uri == sdp::uri::kTransportCc) spec.transportCcId = static_cast<uint8_t>(cap->id);
    }
    mProducers[spec.id] = ProducerInfo{spec.id, participantId, m.mid, m.kind, source, spec.ssrc, paused};
    keep.push_back(spec.id);
    post([participantId, spec](sfu::Router& r) { r.addProducer(participantId, spec); });
    changed = true;
  }
  for (auto it = mProducers.begin(); it != mProducers.end();) {
    if (it->second.participantId == participantId && std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
      post([id = it->first](sfu::Router& r) { r.removeProducer(id); });
      it = mProducers.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) markAllSubscribersDirty(participantId);
}

void MediaRoom::markAllSubscribersDirty(const std::string& except) {
  for (auto& [id, p] : mParticipants) {
    if (id == except) continue;
    p.dirty = true;
    scheduleFlush(id);
  }
}

void MediaRoom::scheduleFlush(const std::string& participantId) {
  auto found = mParticipants.find(participantId);
  if (found == mParticipants.end()) return;
  Participant& p = found->second;
  if (p.flushScheduled) return;
  p.flushScheduled = true;
  std::weak_ptr<bool> alive = mAlive;
  mEnv.schedule(kBatchDelay, [this, alive, participantId] {
    if (alive.expired()) return;
    auto it = mParticipants.find(participantId);
    if (it == mParticipants.end()) return;
    it->second.flushScheduled = false;
    flushSubscriptions(participantId);
  });
}

void MediaRoom::flushSubscriptions(const std::string& participantId) {
  Participant& p = mParticipants.at(participantId);
  if (!p.dirty || !p.pendingOffer.empty()) return;  // an offer is out: its answer triggers the next
  p.dirty = false;

  // Tracks that ended.
  for (auto it = p.subscriptions.begin(); it != p.subscriptions.end();) {
    if (!mProducers.count(it->first)) {
      p.mids.release(it->second.track.mid);
      post([cid = it->second.consumerId](sfu::Router& r) { r.removeConsumer(cid); });
      it = p.subscriptions.erase(it);
    } else {
      ++it;
    }
  }
  // Tracks to add: everyone else's producers.
  size_t withoutSection = 0;
  for (const auto& [id, prod] : mProducers) {
    if (prod.participantId == participantId || p.subscriptions.count(id)) continue;
    auto mid = p.mids.acquire(prod.kind);
    if (!mid) {
      ++withoutSection;
      continue;
    }
    Subscription sub;
    sub.consumerId = mNextId++;
    sub.track.mid = *mid;
    sub.track.kind = prod.kind;
    sub.track.ssrc = common::randomU32() | 1;
    sub.track.cname = "conclave";
    sub.track.streamId = prod.participantId;
    sub.track.trackId = prod.source + "-" + std::to_string(prod.id);
    sfu::ConsumerSpec spec;
    spec.id = sub.consumerId;
    spec.producerId = id;
    spec.ssrc = sub.track.ssrc;
    for (const auto& c : mEnv.capabilities.codecs)
      if (c.kind == prod.kind) {
        spec.payloadType = c.payloadType;
        // Video is retransmitted as RTX on an SSRC of its own (ssrc-group FID in the offer).
        if (c.rtxPayloadType && prod.kind == sdp::MediaKind::Video) {
          sub.track.rtxSsrc = common::randomU32() | 1;
          if (*sub.track.rtxSsrc == sub.track.ssrc) *sub.track.rtxSsrc ^= 2;
          spec.rtxSsrc = sub.track.rtxSsrc;
          spec.rtxPayloadType = *c.rtxPayloadType;
        }
        break;
      }
    if (const auto* cc = mEnv.capabilities.findExtension(prod.kind, sdp::uri::kTransportCc); cc && cc->send)
      spec.transportCcId = static_cast<uint8_t>(cc->id);
    post([participantId, spec](sfu::Router& r) { r.addConsumer(participantId, spec); });
    p.subscriptions.emplace(id, std::move(sub));
  }
  if (withoutSection != p.tracksWithoutSection) {
    // Once per change, not at every flush: in a large meeting every join flushes everyone.
    if (withoutSection > 0)
      common::logger("media")->warn("subscriber has no free m-section; {} track(s) are not sent", withoutSection);
    p.tracksWithoutSection = withoutSection;
  }
  if (p.mids.slots().empty()) {  // nothing to receive yet
    countStreams(p);
    return;
  }

  bool newTransport = !p.subscribeIce;
  if (newTransport || p.subscribeIceRestart) p.subscribeIce = ice::IceCredentials::generate();
  // This offer carries the restart; a restart asked for while it waits comes with the next one.
  p.subscribeIceRestart = false;
  if (newTransport) {
    // Where the transport lives for good: its candidates name that worker's port.
    p.subscribeWorker = mPlacement ? &mPlacement->subscribeWorker(mWorker) : &mWorker;
    if (p.subscribeWorker != &mWorker)
      common::logger("media")->info("room {}: a subscribe transport on worker {} (home worker {})",
                                    common::logId(mRoomId), p.subscribeWorker->index(), mWorker.index());
    sfu::TransportSpec spec;
    spec.localIce = *p.subscribeIce;
    spec.worker = p.subscribeWorker->index();
    post([participantId, spec](sfu::Router& r) { r.setTransport(participantId, sfu::TransportRole::Subscribe, spec); });
  }
  countStreams(p);
  std::vector<sdp::OutgoingTrack> tracks;
  std::vector<OfferedTrack> offered;
  for (const auto& [producerId, sub] : p.subscriptions) {
    tracks.push_back(sub.track);
    const auto& prod = mProducers.at(producerId);
    offered.push_back({sub.track.mid, prod.kind, prod.participantId, prod.source});
  }
  p.subscribeOrigin.version++;
  auto offer = sdp::buildSubscribeOffer(p.mids.slots(), tracks, localTransport(*p.subscribeIce, *p.subscribeWorker),
                                        p.subscribeOrigin, mEnv.capabilities);
  if (!offer) {
    common::logger("media")->error("cannot build a subscribe offer: {}", offer.error().code);
    return;
  }
  p.pendingOffer = offer.value();
  p.peer->subscribeOffer(p.pendingOffer, offered);
}

std::optional<MediaError> MediaRoom::subscribeAnswer(const std::string& participantId, std::string_view answer) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return MediaError{common::ErrorCode::InvalidState, "not in this room"};
  Participant& p = it->second;
  if (p.pendingOffer.empty())
    return MediaError{common::ErrorCode::InvalidState, "no subscribe offer is waiting for an answer"};
  auto parsedAnswer = sdp::parseSessionDescription(answer);
  if (!parsedAnswer) return sdpError(common::ErrorCode::BadSdp, parsedAnswer.error());
  auto parsedOffer = sdp::parseSessionDescription(p.pendingOffer);
  if (!parsedOffer) return sdpError(common::ErrorCode::NegotiationFailed, parsedOffer.error());
  auto checked = sdp::checkSubscribeAnswer(parsedOffer.value(), parsedAnswer.value(), mEnv.capabilities);
  if (!checked) return sdpError(common::ErrorCode::NegotiationFailed, checked.error());

  p.pendingOffer.clear();
  p.mids.onNegotiated();
  const auto& remote = checked->remote;
  if (!remote.ice.ufrag.empty() && !remote.fingerprints.empty()) {
    sfu::TransportSpec spec;
    spec.localIce = *p.subscribeIce;
    spec.remoteIce = ice::IceCredentials{remote.ice.ufrag, remote.ice.pwd};
    spec.remoteFingerprint =
        transport::RemoteFingerprint{remote.fingerprints.front().algorithm, remote.fingerprints.front().bytes};
    spec.dtlsRole = checked->localSetup == sdp::SetupRole::Active ? dtls::DtlsRole::Client : dtls::DtlsRole::Server;
    // A transport whose DTLS failed is made again by this call: on the same worker, whose port
    // the offer named.
    spec.worker = p.subscribeWorker ? p.subscribeWorker->index() : -1;
    post([participantId, spec](sfu::Router& r) { r.setTransport(participantId, sfu::TransportRole::Subscribe, spec); });
  }
  if (p.dirty) scheduleFlush(participantId);
  return std::nullopt;
}

std::optional<MediaError> MediaRoom::restartSubscribe(const std::string& participantId) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end() || !it->second.subscribeIce) return std::nullopt;
  Participant& p = it->second;
  if (p.subscribeIceRestart) return std::nullopt;  // the next offer carries one already
  if (auto refused = chargeIceRestart(p)) return refused;
  p.subscribeIceRestart = true;
  p.dirty = true;
  scheduleFlush(participantId);
  return std::nullopt;
}

void MediaRoom::onTransportFailed(const std::string& participantId, sfu::TransportRole role) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  it->second.peer->mediaFailed(role);
}

}  // namespace conclave::conference
