#include "sfu/router.h"

#include <algorithm>
#include <array>

#include "common/base64.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/random.h"
#include "rtcp/compound.h"
#include "rtcp/feedback.h"
#include "rtcp/header.h"
#include "rtcp/sender_report.h"
#include "rtp/header_extensions.h"
#include "rtp/packet_writer.h"

namespace conclave::sfu {
namespace {

// Receiver reports and REMB to each publisher, once a second.
constexpr common::Duration kReportInterval = std::chrono::seconds(1);
// What publishers are told they may send per video stream, until bandwidth estimation decides.
constexpr uint64_t kVideoBitrateHint = 2'000'000;
// At trace level, the first 20 packets of each stream, 48 bytes of each: enough to see the codec
// bytes left clear and the SFrame ciphertext after them, without flooding the log.
constexpr uint64_t kTappedPackets = 20;
constexpr size_t kTappedBytes = 48;
// Buffers for the RTCP the router writes: a sender report without report blocks is 28 bytes, a
// PLI 12; the compound RR + REMB to a publisher stays under a typical MTU of 1200 bytes
// (ReceiverReport::kMaxBlocks report blocks of 24 bytes, REMB with kMaxRembSsrcs SSRCs).
constexpr size_t kSenderReportBuffer = 64;
constexpr size_t kPliBuffer = 16;
constexpr size_t kReportBuffer = 1200;
// Video SSRCs one REMB names (a publisher has a few video tracks; more are not named).
constexpr size_t kMaxRembSsrcs = 16;
// Sequence numbers one NACK toward a publisher names (at most this many items, 268 bytes).
constexpr size_t kMaxNackedPerMessage = 64;
constexpr size_t kNackBuffer = 512;

int64_t toMicros(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

template <typename Vec, typename Key>
auto* findIn(Vec& v, Key key) {
  for (auto& [k, value] : v)
    if (k == key) return value;
  return static_cast<decltype(v.front().second)>(nullptr);
}

}  // namespace

Router::Router(TransportHost& host, RouterObserver* observer)
    : mHost(host),
      mObserver(observer),
      mRtcpSsrc(common::randomU32() | 1),
      mFeedbackResults(TransportCcSender::kMaxResults) {}

Router::~Router() {
  for (auto& [id, p] : mParticipants) {
    destroyTransport(p.publish);
    destroyTransport(p.subscribe);
  }
}

void Router::addParticipant(const std::string& participantId) {
  auto& p = mParticipants[participantId];
  p.id = participantId;
}

void Router::removeParticipant(const std::string& participantId) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  std::vector<uint64_t> producers, consumers;
  for (auto& [id, prod] : mProducers)
    if (prod->participantId() == participantId) producers.push_back(id);
  for (auto& [id, cons] : mConsumers)
    if (cons->subscriberId() == participantId) consumers.push_back(id);
  for (auto id : consumers) removeConsumer(id);
  for (auto id : producers) removeProducer(id);
  destroyTransport(it->second.publish);
  destroyTransport(it->second.subscribe);
  mParticipants.erase(it);
}

void Router::destroyTransport(std::unique_ptr<transport::WebRtcTransport>& t) {
  if (!t) return;
  mHost.unregisterTransport(t.get());
  mByTransport.erase(t->id());
  t->close();
  t.reset();
}

void Router::destroyTransport(std::unique_ptr<transport::MediaTransport>& t) {
  if (!t) return;
  // A local one leaves the worker's routing; a proxy's close() has its worker destroy it there.
  if (auto* local = dynamic_cast<transport::WebRtcTransport*>(t.get())) mHost.unregisterTransport(local);
  mByTransport.erase(t->id());
  t->close();
  t.reset();
}

void Router::setTransport(const std::string& participantId, TransportRole role, const TransportSpec& spec) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  Participant& p = it->second;
  transport::MediaTransport* existing =
      role == TransportRole::Publish ? static_cast<transport::MediaTransport*>(p.publish.get()) : p.subscribe.get();
  if (existing && !existing->closed()) {
    if (existing->localIce() == spec.localIce) {
      if (spec.remoteIce && spec.remoteFingerprint)
        existing->setRemoteParameters(*spec.remoteIce, *spec.remoteFingerprint);
    } else if (spec.remoteIce) {
      existing->restartIce(spec.localIce, *spec.remoteIce);
      if (auto* local = dynamic_cast<transport::WebRtcTransport*>(existing))
        mHost.registerTransport(spec.localIce.ufrag, local);
    }
    return;
  }
  // A new transport: the first negotiation, or one whose DTLS failed.
  transport::WebRtcTransport::Params params;
  params.id = mHost.nextTransportId();
  params.localIce = spec.localIce;
  params.remoteIce = spec.remoteIce;
  params.remoteFingerprint = spec.remoteFingerprint;
  params.dtlsRole = spec.dtlsRole;
  auto makeLocal = [&] {
    auto t = std::make_unique<transport::WebRtcTransport>(static_cast<transport::WebRtcTransport::Listener&>(*this),
                                                          mHost.sink(), mHost.dtlsContext(), params, mHost.now());
    mHost.registerTransport(spec.localIce.ufrag, t.get());
    return t;
  };
  if (role == TransportRole::Publish) {
    destroyTransport(p.publish);
    p.publish = makeLocal();
  } else {
    destroyTransport(p.subscribe);
    if (spec.worker >= 0)
      p.subscribe = mHost.createRemoteTransport(spec.worker, params, static_cast<ProxyTransport::Listener&>(*this));
    if (!p.subscribe) p.subscribe = makeLocal();
  }
  mByTransport[params.id] = &p;
}

void Router::addProducer(const std::string& participantId, const ProducerSpec& spec) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end() || mProducers.count(spec.id)) return;
  auto producer = std::make_unique<Producer>(spec, participantId);
  for (auto [from, to] : spec.extensionMap)
    if (spec.transportCcId != 0 && to == spec.transportCcId) it->second.publishCcId = from;
  if (producer->simulcast()) {
    it->second.simulcastProducers.push_back(producer.get());  // SSRCs come with the first packets
    // ...or were the SSRCs of the producer on this section before.
    std::erase_if(it->second.retiredSsrcs, [&](const Participant::RetiredSsrc& r) {
      if (r.mid != spec.mid) return false;
      if (findIn(it->second.bySsrc, r.ssrc) == nullptr && producer->inheritLayerSsrc(r.rid, r.ssrc, r.repair) >= 0)
        it->second.bySsrc.emplace_back(r.ssrc, producer.get());
      return true;
    });
  } else {
    it->second.bySsrc.emplace_back(spec.ssrc, producer.get());
    if (spec.rtxSsrc) it->second.bySsrc.emplace_back(*spec.rtxSsrc, producer.get());
  }
  mProducers.emplace(spec.id, std::move(producer));
}

void Router::removeProducer(uint64_t producerId) {
  auto it = mProducers.find(producerId);
  if (it == mProducers.end()) return;
  std::vector<uint64_t> consumers;
  for (auto* c : it->second->consumers()) consumers.push_back(c->id());
  for (auto id : consumers) removeConsumer(id);
  if (auto p = mParticipants.find(it->second->participantId()); p != mParticipants.end()) {
    std::erase_if(p->second.bySsrc, [&](const auto& e) { return e.second == it->second.get(); });
    std::erase(p->second.simulcastProducers, it->second.get());
    const Producer& producer = *it->second;
    auto& retired = p->second.retiredSsrcs;
    for (int i = 0; producer.simulcast() && i < producer.layerCount(); ++i) {
      const ProducerLayer& l = producer.layer(i);
      if (l.ssrc != 0) retired.push_back({producer.spec().mid, l.rid, l.ssrc, false});
      if (l.rtxSsrc != 0) retired.push_back({producer.spec().mid, l.rid, l.rtxSsrc, true});
    }
    if (retired.size() > kMaxRetiredLayerSsrcs)
      retired.erase(retired.begin(), retired.end() - static_cast<std::ptrdiff_t>(kMaxRetiredLayerSsrcs));
  }
  mProducers.erase(it);
}

void Router::setProducerPaused(uint64_t producerId, bool paused) {
  auto it = mProducers.find(producerId);
  if (it == mProducers.end() || it->second->paused() == paused) return;
  Producer& producer = *it->second;
  producer.setPaused(paused);
  // Holes made while paused are never asked for: what was sent during a mute reaches no one.
  if (rtp::NackGenerator* nack = producer.nackGenerator()) nack->clear();
  if (paused) return;
  // Subscribers saw nothing while it was paused: they start again at a keyframe.
  const auto now = mHost.now();
  for (Consumer* c : producer.consumers()) {
    c->requireKeyframe();
    requestKeyframeFor(*c, now);
  }
}

void Router::addConsumer(const std::string& subscriberId, const ConsumerSpec& spec) {
  auto sub = mParticipants.find(subscriberId);
  auto prod = mProducers.find(spec.producerId);
  if (sub == mParticipants.end() || prod == mProducers.end() || mConsumers.count(spec.id)) return;
  auto consumer = std::make_unique<Consumer>(spec, *prod->second, subscriberId);
  consumer->setTransportSlot(&sub->second.subscribe);
  if (spec.transportCcId != 0) {
    auto& cc = sub->second.subscribeCc;
    if (!cc) cc = std::make_unique<TransportCcSender>(static_cast<uint16_t>(common::randomU32()));
    auto& bandwidth = sub->second.bandwidth;
    if (!bandwidth) bandwidth = std::make_unique<SubscriberBandwidth>(mHost.now());
    consumer->setTransportCc(cc.get());
    consumer->setBandwidth(bandwidth.get());
  }
  prod->second->consumers().push_back(consumer.get());
  sub->second.consumersBySsrc.emplace_back(spec.ssrc, consumer.get());
  Consumer& added = *consumer;
  mConsumers.emplace(spec.id, std::move(consumer));
  // A new subscriber needs a keyframe to start decoding.
  const auto now = mHost.now();
  added.updateTargetLayer(now);
  requestKeyframeFor(added, now);
}

void Router::removeConsumer(uint64_t consumerId) {
  auto it = mConsumers.find(consumerId);
  if (it == mConsumers.end()) return;
  Consumer* c = it->second.get();
  if (auto* t = c->transport()) {
    t->forgetOutboundSsrc(c->ssrc());
    if (c->spec().rtxSsrc) t->forgetOutboundSsrc(*c->spec().rtxSsrc);
  }
  std::erase(c->producer().consumers(), c);
  if (auto p = mParticipants.find(c->subscriberId()); p != mParticipants.end())
    std::erase_if(p->second.consumersBySsrc, [&](const auto& e) { return e.second == c; });
  mConsumers.erase(it);
}

void Router::setConsumerMaxLayer(uint64_t consumerId, int layer) {
  auto it = mConsumers.find(consumerId);
  if (it == mConsumers.end()) return;
  it->second->setMaxLayer(layer);
  it->second->updateTargetLayer(mHost.now());
}

void Router::setConsumerPaused(uint64_t consumerId, bool paused) {
  auto it = mConsumers.find(consumerId);
  if (it == mConsumers.end()) return;
  it->second->setPaused(paused);
}

const Consumer* Router::consumer(uint64_t id) const {
  auto it = mConsumers.find(id);
  return it == mConsumers.end() ? nullptr : it->second.get();
}

const Producer* Router::producer(uint64_t id) const {
  auto it = mProducers.find(id);
  return it == mProducers.end() ? nullptr : it->second.get();
}

const transport::WebRtcTransport* Router::transport(const std::string& participantId, TransportRole role) const {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return nullptr;
  if (role == TransportRole::Publish) return it->second.publish.get();
  return dynamic_cast<const transport::WebRtcTransport*>(it->second.subscribe.get());
}

const SubscriberBandwidth* Router::bandwidth(const std::string& participantId) const {
  auto it = mParticipants.find(participantId);
  return it == mParticipants.end() ? nullptr : it->second.bandwidth.get();
}

Router::Participant* Router::owner(const transport::MediaTransport& t) {
  auto it = mByTransport.find(t.id());
  return it == mByTransport.end() ? nullptr : it->second;
}

// ---- packet path -------------------------------------------------------------------------------

void Router::onTransportRtp(transport::WebRtcTransport& t, rtp::RtpPacket& packet, common::TimePoint now) {
  Participant* p = owner(t);
  if (!p || p->publish.get() != &t) {
    ++mStats.rtpDropped;
    return;
  }
  // Every packet counts for the publisher's bandwidth estimate: padding, RTX, probes and packets
  // of SSRCs not known (yet) included; one left out would be reported lost.
  recordArrival(*p, packet, now);
  Producer* producer = findIn(p->bySsrc, packet.ssrc());
  // A simulcast layer's SSRCs are learned from the rid extensions (the publisher's ids: before
  // the remapping below).
  if (!producer && !p->simulcastProducers.empty()) producer = learnSimulcastSsrc(*p, packet);
  if (!producer) {
    ++mStats.rtpDropped;
    return;
  }
  // Extension ids become the subscribers' once, before caching and fan-out.
  if (packet.hasExtension()) packet.remapExtensions(producer->extensionMap());
  const int layer = producer->layerOf(packet.ssrc());
  if (layer < 0) {
    // A layer's RTX stream: repairs of holes are un-wrapped, the rest (probes) dropped.
    const int repaired = producer->rtxLayerOf(packet.ssrc());
    if (repaired >= 0) {
      onPublisherRtx(*producer, repaired, packet, now);
    } else {
      ++mStats.rtpDropped;
    }
    return;
  }
  if (packet.payloadSize() == 0) {
    ++mStats.rtpDropped;
    return;
  }
  // A hole is NACKed at once. Packets of a paused producer count as arrived, so that nothing
  // sent during the mute is ever asked for again.
  if (rtp::NackGenerator* nack = producer->nackGenerator(layer)) {
    const size_t missing = nack->missingCount();
    nack->onPacket(packet.sequenceNumber(), now);
    if (!producer->paused() && (nack->missingCount() > missing || nack->keyframeNeeded()))
      sendNacks(*producer, layer, now);
  }
  // Muted: not cached either (onForwarded), so no NACK can bring a packet sent during the mute to anyone.
  if (producer->paused()) {
    ++mStats.rtpPaused;
    return;
  }
  producer->onRtp(packet, layer, now);
  if (producer->packetsReceived() <= kTappedPackets) tapPayload(*producer, packet);
  producer->onForwarded(packet, layer, now, forward(*producer, layer, packet, now));
}

Producer* Router::learnSimulcastSsrc(Participant& publisher, const rtp::RtpPacket& packet) {
  if (!packet.hasExtension()) return nullptr;
  for (Producer* producer : publisher.simulcastProducers) {
    const ProducerSpec& spec = producer->spec();
    if (spec.midExtensionId != 0) {
      auto mid = packet.extensionString(spec.midExtensionId);
      if (mid && *mid != spec.mid) continue;
    }
    auto rid = spec.ridExtensionId != 0 ? packet.extensionString(spec.ridExtensionId) : std::nullopt;
    bool repair = false;
    if (!rid && spec.repairedRidExtensionId != 0) {
      rid = packet.extensionString(spec.repairedRidExtensionId);
      repair = true;
    }
    if (!rid) continue;
    uint32_t replaced = 0;
    const int layer = producer->learnLayerSsrc(*rid, packet.ssrc(), repair, &replaced);
    if (layer < 0) continue;
    if (replaced != 0) std::erase_if(publisher.bySsrc, [&](const auto& e) { return e.first == replaced; });
    common::logger("sfu")->debug("producer {}: layer {} ({}) {} SSRC learned", producer->id(), layer, *rid,
                                 repair ? "RTX" : "media");
    // Bounded: each layer learns its media and RTX SSRC once.
    publisher.bySsrc.emplace_back(packet.ssrc(), producer);
    return producer;
  }
  return nullptr;
}

// At trace level the first packets of each stream are logged as hex: what the SFU forwards is
// SFrame ciphertext (after the few clear codec bytes), and tests check exactly that.
void Router::tapPayload(const Producer& producer, const rtp::RtpPacket& packet) {
  static const auto log = common::logger("tap");
  if (!log->should_log(spdlog::level::trace)) return;
  auto payload = packet.payload();
  log->trace("producer {} {} payload {} bytes: {}", producer.id(),
             producer.kind() == MediaKind::Video ? "video" : "audio", payload.size(),
             common::hexEncode(payload.first(std::min(payload.size(), kTappedBytes))));
}

bool Router::forward(Producer& producer, int layer, const rtp::RtpPacket& packet, common::TimePoint now, bool repair) {
  bool taken = false;
  for (Consumer* c : producer.consumers()) {
    forwardTo(*c, producer, layer, packet, now, repair);
    // After the packet, so that a switch at it counts.
    taken = taken || Producer::takesLayer(*c, layer);
  }
  return taken;
}

void Router::forwardTo(Consumer& c, Producer& producer, int layer, const rtp::RtpPacket& packet, common::TimePoint now,
                       bool repair) {
  transport::MediaTransport* t = c.transport();
  if (!t) return;
  if (repair && c.currentLayer() != layer) return;
  SubscriberBandwidth* bandwidth = c.bandwidth();
  // Far over the subscriber's estimate (a high layer still waiting for the keyframe of a lower
  // one): video waits, and starts again at a keyframe of the layer that fits. Audio always goes.
  if (bandwidth && producer.kind() == MediaKind::Video && !c.paused() && !bandwidth->allowVideo(now)) {
    ++mStats.videoOverEstimate;
    c.requireKeyframe();
    return;
  }
  const int before = c.currentLayer();
  bool sent = t->sendRtpWith([&](std::span<uint8_t> out) {
    const size_t n = c.writeLayerPacket(packet, layer, out, now);
    if (n > 0) stampTransportCc(c, out.first(n), rtp::SentKind::Media, now);
    return n;
  });
  if (sent) {
    ++mStats.rtpForwarded;
    if (before >= 0 && c.currentLayer() != before) {
      ++mStats.layerSwitches;
      ++(c.currentLayer() > before ? mStats.layerSwitchesUp : mStats.layerSwitchesDown);
      common::logger("sfu")->debug("consumer {}: layer {} -> {}", c.id(), before, c.currentLayer());
    }
  }
  if (c.wantsKeyframe() && t->connected()) requestKeyframeFor(c, now);
  // A probe cluster in flight goes out with the media, as its schedule says.
  if (bandwidth && c.spec().rtxSsrc) sendProbes(*bandwidth, c, now);
}

void Router::transportRtcp(transport::MediaTransport& t, std::span<uint8_t> compound, common::TimePoint now) {
  Participant* p = owner(t);
  if (!p) return;
  if (p->publish.get() == &t) onPublisherRtcp(*p, compound, now);
  else onSubscriberRtcp(*p, compound, now);
}

void Router::onPublisherRtcp(Participant& publisher, std::span<const uint8_t> compound, common::TimePoint now) {
  rtcp::CompoundReader reader(compound);
  while (auto packet = reader.next()) {
    if (packet->header.packetType != rtcp::type::kSenderReport) continue;
    auto sr = rtcp::SenderReport::parse(*packet);
    if (!sr) continue;
    Producer* producer = findIn(publisher.bySsrc, sr->senderSsrc());
    const int layer = producer ? producer->layerOf(sr->senderSsrc()) : -1;
    if (layer < 0) continue;
    producer->onSenderReport(layer, sr->senderInfo(), now);
    forwardSenderReport(*producer, layer);
  }
}

void Router::forwardSenderReport(Producer& producer, int layer) {
  const auto& info = producer.lastSenderReport(layer);
  if (!info) return;
  for (Consumer* c : producer.consumers()) {
    if (c->currentLayer() != layer) continue;  // the timestamps of another layer's segment
    auto ts = c->outputTimestamp(info->rtpTimestamp);
    auto sub = mParticipants.find(c->subscriberId());
    if (!ts || sub == mParticipants.end() || !sub->second.subscribe) continue;
    std::array<uint8_t, kSenderReportBuffer> buf{};
    common::ByteWriter w(buf);
    rtcp::SenderInfo out{info->ntpTimestamp, *ts, c->packetsSent(), c->octetsSent()};
    if (rtcp::SenderReport::write(w, c->ssrc(), out, {}) && w.ok()) sub->second.subscribe->sendRtcp(w.written());
  }
}

void Router::onSubscriberRtcp(Participant& subscriber, std::span<const uint8_t> compound, common::TimePoint now) {
  rtcp::CompoundReader reader(compound);
  while (auto packet = reader.next()) {
    uint8_t type = packet->header.packetType;
    uint8_t fmt = packet->header.count;
    if (type == rtcp::type::kRtpFeedback && fmt == rtcp::fmt::kNack) {
      auto nack = rtcp::GenericNack::parse(*packet);
      if (!nack) continue;
      Consumer* c = findIn(subscriber.consumersBySsrc, nack->mediaSsrc());
      if (!c) continue;
      nack->forEachLost([&](uint16_t seq) { retransmit(subscriber, *c, seq, now); });
    } else if (type == rtcp::type::kPayloadFeedback && fmt == rtcp::fmt::kPli) {
      auto pli = rtcp::Pli::parse(*packet);
      if (!pli) continue;
      if (Consumer* c = findIn(subscriber.consumersBySsrc, pli->mediaSsrc())) requestKeyframeFor(*c, now);
    } else if (type == rtcp::type::kRtpFeedback && fmt == rtcp::fmt::kTransportCc) {
      if (!subscriber.subscribeCc) continue;
      auto feedback = rtcp::TransportCcFeedback::parse(*packet);
      if (!feedback) continue;
      const size_t n = subscriber.subscribeCc->onFeedback(*feedback, mFeedbackResults);
      if (n > 0) onTransportFeedback(subscriber, std::span(mFeedbackResults).first(n), now);
    } else if (type == rtcp::type::kPayloadFeedback && fmt == rtcp::fmt::kFir) {
      auto fir = rtcp::Fir::parse(*packet);
      if (!fir) continue;
      for (size_t i = 0; i < fir->entryCount(); ++i)
        if (Consumer* c = findIn(subscriber.consumersBySsrc, fir->entry(i).ssrc)) requestKeyframeFor(*c, now);
    }
  }
}

void Router::retransmit(Participant& subscriber, Consumer& consumer, uint16_t seq, common::TimePoint now) {
  // The cache of the layer being forwarded: the rewriter maps only that layer's segment.
  const rtp::PacketCache* cache = consumer.producer().cache(consumer.currentLayer());
  if (consumer.producer().paused()) return;
  auto source = consumer.sourceSequenceNumber(seq);
  if (!cache || !source || !subscriber.subscribe) return;
  auto entry = cache->get(*source);
  if (!entry) return;
  // Per packet and per consumer limits, and a byte budget tied to what the consumer receives.
  if (!consumer.allowRetransmit(seq, entry->bytes.size(), now)) {
    ++mStats.retransmitsRefused;
    return;
  }
  // ... and the subscriber's estimate: repair is the first to go when its downlink is full.
  if (SubscriberBandwidth* bandwidth = consumer.bandwidth();
      bandwidth && !bandwidth->allowRetransmission(static_cast<uint32_t>(entry->bytes.size() + 2), now)) {
    ++mStats.retransmitsOverEstimate;
    return;
  }
  // The cache hands out a read-only copy; the packet is rewritten in the send buffer, then wrapped
  // in RTX there when the subscriber has an RTX stream (2 bytes longer: the original number).
  bool sent = subscriber.subscribe->sendRtpWith([&](std::span<uint8_t> out) -> size_t {
    if (entry->bytes.size() + 2 > out.size()) return 0;
    std::array<uint8_t, rtp::PacketCache::kMaxPacketSize> scratch;
    std::copy(entry->bytes.begin(), entry->bytes.end(), scratch.begin());
    auto packet = rtp::RtpPacket::parse(std::span(scratch).first(entry->bytes.size()));
    size_t n = packet ? consumer.writePacket(*packet, out, now, true) : 0;
    if (n == 0) return 0;
    if (const auto& rtxSsrc = consumer.spec().rtxSsrc) {
      auto written = rtp::RtpPacket::parse(out.first(n));
      if (!written) return 0;
      n = rtp::writeRtx(out, *written, consumer.spec().rtxPayloadType, *rtxSsrc, consumer.nextRtxSequenceNumber());
      if (n == 0) return 0;
    }
    stampTransportCc(consumer, out.first(n), rtp::SentKind::Retransmission, now);
    return n;
  });
  if (sent) ++mStats.retransmitted;
}

size_t Router::cacheBytes() const {
  size_t total = 0;
  for (const auto& [id, producer] : mProducers)
    for (int layer = 0; layer < producer->layerCount(); ++layer)
      if (const auto* cache = producer->cache(layer)) total += cache->allocatedBytes();
  return total;
}

void Router::requestKeyframe(Producer& producer, int layer, common::TimePoint now) {
  if (producer.requestKeyframe(layer, now)) sendKeyframeRequest(producer, layer);
}

void Router::requestKeyframeFor(Consumer& consumer, common::TimePoint now) {
  if (consumer.paused()) return;
  // Waiting for a switch: the target layer's keyframe; otherwise (a subscriber's PLI) the current's.
  const int layer = consumer.wantsKeyframe() ? consumer.targetLayer() : consumer.currentLayer();
  requestKeyframe(consumer.producer(), std::max(layer, 0), now);
}

void Router::sendKeyframeRequest(Producer& producer, int layer) {
  auto it = mParticipants.find(producer.participantId());
  if (it == mParticipants.end() || !it->second.publish) return;
  const uint32_t ssrc = producer.layer(layer).ssrc;
  std::array<uint8_t, kPliBuffer> buf{};
  common::ByteWriter w(buf);
  if (ssrc != 0 && rtcp::Pli::write(w, mRtcpSsrc, ssrc) && w.ok() && it->second.publish->sendRtcp(w.written()))
    ++mStats.keyframeRequests;
  // Not sent (publisher not connected yet, layer SSRC not learned yet): try again later.
  else producer.markKeyframePending(layer);
}

// ---- upstream repair and transport-wide feedback ------------------------------------------------

// A publisher's RTX packet: a padding probe (no original inside) only counts for transport-cc;
// a retransmission is forwarded when it fills a hole the NACK generator knows of, so that probes
// made of old packets and answers to NACKs already repaired reach no one twice.
void Router::onPublisherRtx(Producer& producer, int layer, rtp::RtpPacket& rtx, common::TimePoint now) {
  rtp::NackGenerator* nack = producer.nackGenerator(layer);
  if (!nack || producer.paused() || rtx.payloadSize() <= 2) {
    ++mStats.rtpDropped;
    return;
  }
  // Only a hole is filled: an RTX packet cannot move the stream forward or repeat a packet.
  if (!nack->isMissing(common::loadU16(rtx.payload().data()))) {
    ++mStats.rtpDropped;
    return;
  }
  auto original = rtp::unwrapRtx(rtx, producer.spec().payloadType, producer.layer(layer).ssrc);
  if (!original || !nack->onPacket(original->sequenceNumber(), now)) {
    ++mStats.rtpDropped;
    return;
  }
  ++mStats.rtxRepaired;
  producer.onRtp(*original, layer, now);
  producer.onForwarded(*original, layer, now, forward(producer, layer, *original, now, true));
}

void Router::sendNacks(Producer& producer, int layer, common::TimePoint now) {
  rtp::NackGenerator* nack = producer.nackGenerator(layer);
  if (!nack) return;
  std::array<uint16_t, kMaxNackedPerMessage> lost{};
  const size_t n = nack->collect(now, lost);
  if (n > 0) {
    auto it = mParticipants.find(producer.participantId());
    if (it != mParticipants.end() && it->second.publish) {
      std::array<uint8_t, kNackBuffer> buf{};
      common::ByteWriter w(buf);
      if (rtcp::GenericNack::write(w, mRtcpSsrc, producer.layer(layer).ssrc, std::span(lost).first(n)) && w.ok() &&
          it->second.publish->sendRtcp(w.written()))
        mStats.nacksSent += n;
    }
  }
  // A loss NACKs cannot repair: the subscribers' decoders need a new start.
  if (nack->takeKeyframeNeeded()) requestKeyframe(producer, layer, now);
}

void Router::recordArrival(Participant& publisher, const rtp::RtpPacket& packet, common::TimePoint now) {
  if (publisher.publishCcId == 0 || !packet.hasExtension()) return;
  auto value = packet.extension(publisher.publishCcId);
  auto seq = value ? rtp::parseTransportSequenceNumber(*value) : std::nullopt;
  if (!seq) return;
  // Once per publisher (its first packet), not per packet.
  if (!publisher.publishCc) publisher.publishCc = std::make_unique<rtcp::TransportCcRecorder>(mRtcpSsrc);
  // When the datagram reached the host (the kernel's stamp), not when its batch was read: a
  // batch's packets would all look as if they had arrived together.
  publisher.publishCc->onPacket(*seq, toMicros(mHost.datagramArrival().value_or(now)));
  publisher.publishCc->setMediaSsrc(packet.ssrc());
}

void Router::stampTransportCc(const Consumer& consumer, std::span<uint8_t> bytes, rtp::SentKind kind,
                              common::TimePoint now, int probeClusterId) {
  TransportCcSender* sender = consumer.transportCc();
  if (!sender) return;
  std::optional<uint16_t> seq;
  if (auto packet = rtp::RtpPacket::parse(bytes)) {
    const uint16_t next = sender->history().nextSequenceNumber();
    if (sender->stamp(*packet, consumer.spec().transportCcId, kind, now)) seq = next;
  }
  if (SubscriberBandwidth* bandwidth = consumer.bandwidth())
    bandwidth->onPacketSent(seq, static_cast<uint32_t>(bytes.size()), kind, probeClusterId, now);
}

// Called every tick (50 ms): the publisher's estimator gets feedback 20 times a second.
void Router::sendTransportFeedback() {
  for (auto& entry : mParticipants) {
    Participant& p = entry.second;  // a named reference: lambdas may not capture structured bindings
    if (!p.publishCc || !p.publish || !p.publish->connected()) continue;
    p.publishCc->flush([&](std::span<const uint8_t> message) {
      if (p.publish->sendRtcp(message)) ++mStats.transportFeedbackSent;
    });
  }
}

void Router::onTransportFeedback(Participant& subscriber, std::span<const bwe::PacketResult> results,
                                 common::TimePoint now) {
  ++mStats.transportFeedbackReceived;
  mStats.transportPacketsReported += results.size();
  for (const auto& r : results)
    if (!r.received) ++mStats.transportPacketsLost;
  if (subscriber.bandwidth) subscriber.bandwidth->onFeedback(results, now);
}

// ---- subscriber bandwidth ----------------------------------------------------------------------

void Router::allocate(Participant& subscriber, common::TimePoint now) {
  SubscriberBandwidth& bandwidth = *subscriber.bandwidth;
  uint32_t audioBps = 0;
  mAllocConsumers.clear();
  mAllocDemands.clear();
  for (auto& [ssrc, c] : subscriber.consumersBySsrc) {
    Producer& producer = c->producer();
    if (producer.paused()) continue;
    if (producer.kind() == MediaKind::Audio) {
      audioBps += producer.layerBitrate(0, now);
      continue;
    }
    // A hidden tile costs nothing and keeps its allocation until it shows again.
    if (c->hidden()) continue;
    bwe::VideoDemand demand;
    demand.maxLayer = std::min(c->maxLayer(), producer.layerCount() - 1);
    demand.currentLayer = c->paused() ? -1 : std::min(c->targetLayer(), demand.maxLayer);
    for (int l = 0; l < std::min(producer.layerCount(), bwe::kMaxLayers); ++l)
      if (producer.layerActive(l, now)) demand.layerBps[static_cast<size_t>(l)] = producer.layerBitrate(l, now);
    mAllocConsumers.push_back(c);
    mAllocDemands.push_back(demand);
  }
  mAllocLayers.assign(mAllocDemands.size(), -1);
  const uint64_t clusters = bandwidth.probeClustersStarted();
  bandwidth.allocate(audioBps, mAllocDemands, mAllocLayers, now);
  mStats.probeClusters += bandwidth.probeClustersStarted() - clusters;
  for (size_t i = 0; i < mAllocConsumers.size(); ++i) {
    Consumer& c = *mAllocConsumers[i];
    const bool wasPaused = c.paused();
    int layer = mAllocLayers[i];
    auto& shortSince = c.shortOfBandwidthSince();
    if (layer >= 0 || wasPaused) {
      shortSince.reset();
    } else {
      if (!shortSince) shortSince = now;
      // Not for long yet: the lowest layer that arrives, until the shortfall lasts.
      if (now - *shortSince < SubscriberBandwidth::kPauseAfter) {
        const auto& bps = mAllocDemands[i].layerBps;
        layer = static_cast<int>(std::find_if(bps.begin(), bps.end(), [](uint32_t b) { return b > 0; }) - bps.begin());
        if (layer >= bwe::kMaxLayers) layer = 0;
      }
    }
    c.setAllocatedLayer(layer);
    c.updateTargetLayer(now);
    if (!wasPaused && c.paused()) {
      ++mStats.consumersPausedForBandwidth;
      common::logger("bwe")->debug("consumer {}: paused, {} bit/s do not carry its lowest layer", c.id(),
                                   bandwidth.estimateBps());
    }
    if (c.wantsKeyframe() && c.transport() && c.transport()->connected()) requestKeyframeFor(c, now);
  }
  const uint32_t estimate = bandwidth.estimateBps();
  if (static const auto log = common::logger("bwe"); log->should_log(spdlog::level::trace)) {
    const auto& st = bandwidth.estimator().stats();
    log->trace("estimate {} loss {:.3f} overuses {} timeouts {} probes ok {} failed {} feedbacks {}", estimate,
               bandwidth.estimator().lossFraction(), st.overuses, st.feedbackTimeouts, st.probeResults, st.failedProbes,
               st.feedbacks);
  }
  ++mStats.estimates;
  mStats.estimateKbpsSum += estimate / 1000;
  if (estimate < 300'000) ++mStats.estimatesUnder300k;
  if (estimate < 1'000'000) ++mStats.estimatesUnder1M;
  if (estimate < 3'000'000) ++mStats.estimatesUnder3M;
}

void Router::sendProbes(Participant& subscriber, common::TimePoint now) {
  for (auto& [ssrc, c] : subscriber.consumersBySsrc) {
    if (c->spec().rtxSsrc && c->transportCc() && c->producer().kind() == MediaKind::Video) {
      sendProbes(*subscriber.bandwidth, *c, now);
      return;
    }
  }
}

// Padding-only packets on the consumer's RTX stream (RFC 4588 payload type, its own sequence
// numbers, the transport-wide number): browsers count them for transport-cc and drop them, as
// libwebrtc's own probes.
void Router::sendProbes(SubscriberBandwidth& bandwidth, Consumer& via, common::TimePoint now) {
  transport::MediaTransport* t = via.transport();
  if (!t || !t->connected() || !via.spec().rtxSsrc || via.spec().transportCcId == 0) return;
  for (int i = 0; i < SubscriberBandwidth::kMaxProbePacketsAtOnce; ++i) {
    auto probe = bandwidth.nextProbePacket(now);
    if (!probe) return;
    const std::array<uint8_t, 2> seqPlaceholder{};
    const rtp::ExtensionValue ext[] = {{via.spec().transportCcId, seqPlaceholder}};
    rtp::RtpHeader header;
    header.payloadType = via.spec().rtxPayloadType;
    header.sequenceNumber = via.nextRtxSequenceNumber();
    header.timestamp = via.lastOutputTimestamp();
    header.ssrc = *via.spec().rtxSsrc;
    const bool sent = t->sendRtpWith([&](std::span<uint8_t> out) -> size_t {
      const size_t n = rtp::writeRtpPacket(out, header, ext, {}, probe->paddingBytes);
      if (n > 0) stampTransportCc(via, out.first(n), rtp::SentKind::Padding, now, probe->clusterId);
      return n;
    });
    if (sent) ++mStats.probePackets;
  }
}

// ---- timers ------------------------------------------------------------------------------------

void Router::tick(common::TimePoint now) {
  for (auto& [id, p] : mParticipants) {
    if (p.publish) p.publish->tick(now);
    if (p.subscribe) p.subscribe->tick(now);
  }
  for (auto& [id, p] : mParticipants) {
    if (p.publish && p.publish->closed()) destroyTransport(p.publish);
    if (p.subscribe && p.subscribe->closed()) destroyTransport(p.subscribe);
  }
  for (auto& [id, producer] : mProducers) {
    for (int layer = 0; layer < producer->layerCount(); ++layer) {
      if (producer->nackGenerator(layer) && !producer->paused()) sendNacks(*producer, layer, now);
      if (producer->takePendingKeyframe(layer, now)) sendKeyframeRequest(*producer, layer);
    }
  }
  sendTransportFeedback();
  for (auto& entry : mParticipants) {
    Participant& p = entry.second;
    if (!p.bandwidth || !p.subscribe) continue;
    if (p.bandwidth->allocationDue(now)) allocate(p, now);
    sendProbes(p, now);
  }
  if (now >= mNextReport) {
    mNextReport = now + kReportInterval;
    sendReports(now);
    common::logger("sfu")->debug(
        "router: {} producers, {} consumers, forwarded {}, dropped {}, retransmitted {}, "
        "keyframe requests {}, layer switches {}",
        mProducers.size(), mConsumers.size(), mStats.rtpForwarded, mStats.rtpDropped, mStats.retransmitted,
        mStats.keyframeRequests, mStats.layerSwitches);
  }
}

void Router::sendReports(common::TimePoint now) {
  for (auto& [id, p] : mParticipants) {
    if (!p.publish || !p.publish->connected()) continue;
    std::array<rtcp::ReportBlock, rtcp::ReceiverReport::kMaxBlocks> blocks{};
    std::array<uint32_t, kMaxRembSsrcs> videoSsrcs{};
    size_t nBlocks = 0, nVideo = 0;
    for (auto& [ssrc, producer] : p.bySsrc) {
      const int layer = producer->layerOf(ssrc);
      if (layer < 0) continue;
      if (producer->receiverStats(layer).hasPackets() && nBlocks < blocks.size())
        blocks[nBlocks++] = producer->receiverStats(layer).makeReportBlock(now);
      // With transport-cc the publisher estimates its own uplink from our feedback: no REMB.
      if (producer->kind() == MediaKind::Video && producer->spec().transportCcId == 0 && nVideo < videoSsrcs.size())
        videoSsrcs[nVideo++] = ssrc;
    }
    std::array<uint8_t, kReportBuffer> buf{};
    common::ByteWriter w(buf);
    rtcp::ReceiverReport::write(w, mRtcpSsrc, std::span(blocks).first(nBlocks));
    if (nVideo > 0) rtcp::Remb::write(w, mRtcpSsrc, kVideoBitrateHint * nVideo, std::span(videoSsrcs).first(nVideo));
    if (w.ok()) p.publish->sendRtcp(w.written());
  }
}

// ---- transport events --------------------------------------------------------------------------

void Router::transportConnected(transport::MediaTransport& t) {
  Participant* p = owner(t);
  if (!p) return;
  common::logger("sfu")->debug("transport {} connected", t.id());
  if (mObserver) mObserver->onTransportSecured(p->id, roleOf(*p, t), t.srtpProfileName());
  // A subscriber whose transport just came up needs keyframes for everything it consumes.
  if (p->subscribe.get() == &t) {
    auto now = mHost.now();
    for (auto& [ssrc, c] : p->consumersBySsrc) {
      c->requireKeyframe();
      requestKeyframeFor(*c, now);
    }
  }
}

void Router::onTransportEndpoint(transport::WebRtcTransport& t, const net::Endpoint& endpoint) {
  mHost.registerEndpoint(endpoint, &t);
}

void Router::onTransportEndpointRemoved(transport::WebRtcTransport& t, const net::Endpoint& endpoint) {
  mHost.unregisterEndpoint(endpoint, &t);
}

void Router::transportIceDisconnected(transport::MediaTransport& t, std::string_view reason) {
  Participant* p = owner(t);
  if (!p) return;
  common::logger("sfu")->info("transport {}: {}", t.id(), reason);
  if (mObserver) mObserver->onTransportFailed(p->id, roleOf(*p, t), reason);
}

// Media flows again by itself (the transport sends once it has a pair); only the log is told.
void Router::transportIceReconnected(transport::MediaTransport& t) {
  if (owner(t)) common::logger("sfu")->info("transport {}: ice connected again", t.id());
}

void Router::onTransportClosed(transport::WebRtcTransport& t, std::string_view reason) {
  if (!owner(t)) return;
  mHost.unregisterTransport(&t);
  transportClosed(t, reason);
}

void Router::transportClosed(transport::MediaTransport& t, std::string_view reason) {
  Participant* p = owner(t);
  if (!p) return;
  common::logger("sfu")->info("transport {} closed: {}", t.id(), reason);
  if (mObserver) mObserver->onTransportFailed(p->id, roleOf(*p, t), reason);
}

}  // namespace conclave::sfu
