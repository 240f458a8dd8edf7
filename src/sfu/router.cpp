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

template <typename Vec, typename Key>
auto* findIn(Vec& v, Key key) {
  for (auto& [k, value] : v)
    if (k == key) return value;
  return static_cast<decltype(v.front().second)>(nullptr);
}

}  // namespace

Router::Router(TransportHost& host, RouterObserver* observer)
    : mHost(host), mObserver(observer), mRtcpSsrc(common::randomU32() | 1) {}

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

void Router::setTransport(const std::string& participantId, TransportRole role, const TransportSpec& spec) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return;
  auto& slot = role == TransportRole::Publish ? it->second.publish : it->second.subscribe;
  if (slot && !slot->closed()) {
    if (slot->localIce() == spec.localIce) {
      if (spec.remoteIce && spec.remoteFingerprint) slot->setRemoteParameters(*spec.remoteIce, *spec.remoteFingerprint);
    } else if (spec.remoteIce) {
      slot->restartIce(spec.localIce, *spec.remoteIce);
      mHost.registerTransport(spec.localIce.ufrag, slot.get());
    }
    return;
  }
  // A new transport: the first negotiation, or one whose DTLS failed.
  destroyTransport(slot);
  transport::WebRtcTransport::Params params;
  params.id = mHost.nextTransportId();
  params.localIce = spec.localIce;
  params.remoteIce = spec.remoteIce;
  params.remoteFingerprint = spec.remoteFingerprint;
  params.dtlsRole = spec.dtlsRole;
  slot = std::make_unique<transport::WebRtcTransport>(static_cast<transport::WebRtcTransport::Listener&>(*this),
                                                      mHost.sink(), mHost.dtlsContext(), params,
                                                      std::chrono::steady_clock::now());
  mByTransport[params.id] = &it->second;
  mHost.registerTransport(spec.localIce.ufrag, slot.get());
}

void Router::addProducer(const std::string& participantId, const ProducerSpec& spec) {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end() || mProducers.count(spec.id)) return;
  auto producer = std::make_unique<Producer>(spec, participantId);
  it->second.bySsrc.emplace_back(spec.ssrc, producer.get());
  if (spec.rtxSsrc) it->second.bySsrc.emplace_back(*spec.rtxSsrc, producer.get());
  mProducers.emplace(spec.id, std::move(producer));
}

void Router::removeProducer(uint64_t producerId) {
  auto it = mProducers.find(producerId);
  if (it == mProducers.end()) return;
  std::vector<uint64_t> consumers;
  for (auto* c : it->second->consumers()) consumers.push_back(c->id());
  for (auto id : consumers) removeConsumer(id);
  if (auto p = mParticipants.find(it->second->participantId()); p != mParticipants.end())
    std::erase_if(p->second.bySsrc, [&](const auto& e) { return e.second == it->second.get(); });
  mProducers.erase(it);
}

void Router::setProducerPaused(uint64_t producerId, bool paused) {
  auto it = mProducers.find(producerId);
  if (it == mProducers.end() || it->second->paused() == paused) return;
  Producer& producer = *it->second;
  producer.setPaused(paused);
  if (paused) return;
  // Subscribers saw nothing while it was paused: they start again at a keyframe.
  for (Consumer* c : producer.consumers()) c->requireKeyframe();
  requestKeyframe(producer, std::chrono::steady_clock::now());
}

void Router::addConsumer(const std::string& subscriberId, const ConsumerSpec& spec) {
  auto sub = mParticipants.find(subscriberId);
  auto prod = mProducers.find(spec.producerId);
  if (sub == mParticipants.end() || prod == mProducers.end() || mConsumers.count(spec.id)) return;
  auto consumer = std::make_unique<Consumer>(spec, *prod->second, subscriberId);
  consumer->setTransportSlot(&sub->second.subscribe);
  prod->second->consumers().push_back(consumer.get());
  sub->second.consumersBySsrc.emplace_back(spec.ssrc, consumer.get());
  mConsumers.emplace(spec.id, std::move(consumer));
  // A new subscriber needs a keyframe to start decoding.
  requestKeyframe(*prod->second, std::chrono::steady_clock::now());
}

void Router::removeConsumer(uint64_t consumerId) {
  auto it = mConsumers.find(consumerId);
  if (it == mConsumers.end()) return;
  Consumer* c = it->second.get();
  if (auto* t = c->transport()) t->forgetOutboundSsrc(c->ssrc());
  std::erase(c->producer().consumers(), c);
  if (auto p = mParticipants.find(c->subscriberId()); p != mParticipants.end())
    std::erase_if(p->second.consumersBySsrc, [&](const auto& e) { return e.second == c; });
  mConsumers.erase(it);
}

const Producer* Router::producer(uint64_t id) const {
  auto it = mProducers.find(id);
  return it == mProducers.end() ? nullptr : it->second.get();
}

const transport::WebRtcTransport* Router::transport(const std::string& participantId, TransportRole role) const {
  auto it = mParticipants.find(participantId);
  if (it == mParticipants.end()) return nullptr;
  return (role == TransportRole::Publish ? it->second.publish : it->second.subscribe).get();
}

Router::Participant* Router::owner(const transport::WebRtcTransport& t) {
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
  Producer* producer = findIn(p->bySsrc, packet.ssrc());
  // RTX (padding probes, retransmissions we did not ask for) is not forwarded.
  if (!producer || packet.ssrc() != producer->ssrc() || packet.payloadSize() == 0) {
    ++mStats.rtpDropped;
    return;
  }
  // Muted: not cached either, so no NACK can bring a packet sent during the mute to anyone.
  if (producer->paused()) {
    ++mStats.rtpPaused;
    return;
  }
  // Extension ids become the subscribers' once, before caching and fan-out.
  if (packet.hasExtension()) packet.remapExtensions(producer->extensionMap());
  producer->onRtp(packet, now);
  if (producer->packetsReceived() <= kTappedPackets) tapPayload(*producer, packet);
  forward(*producer, packet, now);
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

void Router::forward(Producer& producer, const rtp::RtpPacket& packet, common::TimePoint now) {
  for (Consumer* c : producer.consumers()) {
    transport::WebRtcTransport* t = c->transport();
    if (!t) continue;
    bool wasWaiting = c->waitingForKeyframe();
    bool sent = t->sendRtpWith([&](std::span<uint8_t> out) { return c->writePacket(packet, out, now); });
    if (sent) ++mStats.rtpForwarded;
    else if (wasWaiting && c->waitingForKeyframe() && t->connected()) requestKeyframe(producer, now);
  }
}

void Router::onTransportRtcp(transport::WebRtcTransport& t, std::span<uint8_t> compound, common::TimePoint now) {
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
    if (!producer || producer->ssrc() != sr->senderSsrc()) continue;
    producer->onSenderReport(sr->senderInfo(), now);
    forwardSenderReport(*producer);
  }
}

void Router::forwardSenderReport(Producer& producer) {
  const auto& info = producer.lastSenderReport();
  if (!info) return;
  for (Consumer* c : producer.consumers()) {
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
      if (Consumer* c = findIn(subscriber.consumersBySsrc, pli->mediaSsrc())) requestKeyframe(c->producer(), now);
    } else if (type == rtcp::type::kPayloadFeedback && fmt == rtcp::fmt::kFir) {
      auto fir = rtcp::Fir::parse(*packet);
      if (!fir) continue;
      for (size_t i = 0; i < fir->entryCount(); ++i)
        if (Consumer* c = findIn(subscriber.consumersBySsrc, fir->entry(i).ssrc)) requestKeyframe(c->producer(), now);
    }
  }
}

void Router::retransmit(Participant& subscriber, Consumer& consumer, uint16_t seq, common::TimePoint now) {
  const rtp::PacketCache* cache = consumer.producer().cache();
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
  // The cache hands out a read-only copy; the packet is rewritten in the send buffer.
  bool sent = subscriber.subscribe->sendRtpWith([&](std::span<uint8_t> out) -> size_t {
    if (entry->bytes.size() > out.size()) return 0;
    std::array<uint8_t, rtp::PacketCache::kMaxPacketSize> scratch;
    std::copy(entry->bytes.begin(), entry->bytes.end(), scratch.begin());
    auto packet = rtp::RtpPacket::parse(std::span(scratch).first(entry->bytes.size()));
    return packet ? consumer.writePacket(*packet, out, now, true) : 0;
  });
  if (sent) ++mStats.retransmitted;
}

size_t Router::cacheBytes() const {
  size_t total = 0;
  for (const auto& [id, producer] : mProducers)
    if (const auto* cache = producer->cache()) total += cache->allocatedBytes();
  return total;
}

void Router::requestKeyframe(Producer& producer, common::TimePoint now) {
  if (producer.requestKeyframe(now)) sendKeyframeRequest(producer);
}

void Router::sendKeyframeRequest(Producer& producer) {
  auto it = mParticipants.find(producer.participantId());
  if (it == mParticipants.end() || !it->second.publish) return;
  std::array<uint8_t, kPliBuffer> buf{};
  common::ByteWriter w(buf);
  if (rtcp::Pli::write(w, mRtcpSsrc, producer.ssrc()) && w.ok() && it->second.publish->sendRtcp(w.written()))
    ++mStats.keyframeRequests;
  else producer.markKeyframePending();  // not sent (publisher not connected yet): try again later
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
  for (auto& [id, producer] : mProducers)
    if (producer->takePendingKeyframe(now)) sendKeyframeRequest(*producer);
  if (now >= mNextReport) {
    mNextReport = now + kReportInterval;
    sendReports(now);
    common::logger("sfu")->debug(
        "router: {} producers, {} consumers, forwarded {}, dropped {}, retransmitted {}, "
        "keyframe requests {}",
        mProducers.size(), mConsumers.size(), mStats.rtpForwarded, mStats.rtpDropped, mStats.retransmitted,
        mStats.keyframeRequests);
  }
}

void Router::sendReports(common::TimePoint now) {
  for (auto& [id, p] : mParticipants) {
    if (!p.publish || !p.publish->connected()) continue;
    std::array<rtcp::ReportBlock, rtcp::ReceiverReport::kMaxBlocks> blocks{};
    std::array<uint32_t, kMaxRembSsrcs> videoSsrcs{};
    size_t nBlocks = 0, nVideo = 0;
    for (auto& [ssrc, producer] : p.bySsrc) {
      if (ssrc != producer->ssrc()) continue;
      if (producer->receiverStats().hasPackets() && nBlocks < blocks.size())
        blocks[nBlocks++] = producer->receiverStats().makeReportBlock(now);
      if (producer->kind() == MediaKind::Video && nVideo < videoSsrcs.size()) videoSsrcs[nVideo++] = ssrc;
    }
    std::array<uint8_t, kReportBuffer> buf{};
    common::ByteWriter w(buf);
    rtcp::ReceiverReport::write(w, mRtcpSsrc, std::span(blocks).first(nBlocks));
    if (nVideo > 0) rtcp::Remb::write(w, mRtcpSsrc, kVideoBitrateHint * nVideo, std::span(videoSsrcs).first(nVideo));
    if (w.ok()) p.publish->sendRtcp(w.written());
  }
}

// ---- transport events --------------------------------------------------------------------------

void Router::onTransportConnected(transport::WebRtcTransport& t) {
  Participant* p = owner(t);
  if (!p) return;
  common::logger("sfu")->debug("transport {} connected", t.id());
  if (mObserver)
    mObserver->onTransportSecured(p->id, p->publish.get() == &t ? TransportRole::Publish : TransportRole::Subscribe,
                                  t.srtpProfileName());
  // A subscriber whose transport just came up needs keyframes for everything it consumes.
  if (p->subscribe.get() == &t) {
    auto now = std::chrono::steady_clock::now();
    for (auto& [ssrc, c] : p->consumersBySsrc) {
      c->requireKeyframe();
      requestKeyframe(c->producer(), now);
    }
  }
}

void Router::onTransportEndpoint(transport::WebRtcTransport& t, const net::Endpoint& endpoint) {
  mHost.registerEndpoint(endpoint, &t);
}

void Router::onTransportEndpointRemoved(transport::WebRtcTransport& t, const net::Endpoint& endpoint) {
  mHost.unregisterEndpoint(endpoint, &t);
}

void Router::onTransportIceDisconnected(transport::WebRtcTransport& t, std::string_view reason) {
  Participant* p = owner(t);
  if (!p) return;
  common::logger("sfu")->info("transport {}: {}", t.id(), reason);
  if (mObserver)
    mObserver->onTransportFailed(p->id, p->publish.get() == &t ? TransportRole::Publish : TransportRole::Subscribe,
                                 reason);
}

void Router::onTransportClosed(transport::WebRtcTransport& t, std::string_view reason) {
  Participant* p = owner(t);
  if (!p) return;
  common::logger("sfu")->info("transport {} closed: {}", t.id(), reason);
  mHost.unregisterTransport(&t);
  if (mObserver)
    mObserver->onTransportFailed(p->id, p->publish.get() == &t ? TransportRole::Publish : TransportRole::Subscribe,
                                 reason);
}

}  // namespace conclave::sfu
