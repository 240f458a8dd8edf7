// A room on a media worker: the participants' transports, their producers and consumers, and
// the forwarding between them. Single-threaded (the worker's thread); no locks; the forwarding
// path does not allocate.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bwe/types.h"
#include "common/clock.h"
#include "rtcp/transport_cc_recorder.h"
#include "sfu/consumer.h"
#include "sfu/media.h"
#include "sfu/producer.h"
#include "sfu/proxy_transport.h"
#include "sfu/subscriber_bandwidth.h"
#include "sfu/transport_cc_sender.h"
#include "transport/webrtc_transport.h"

namespace conclave::sfu {

// What a router needs from its worker: sending, and routing of the shared port to transports.
class TransportHost {
 public:
  virtual ~TransportHost() = default;
  virtual transport::PacketSink& sink() = 0;
  virtual const dtls::DtlsContext& dtlsContext() = 0;
  virtual void registerTransport(const std::string& localUfrag, transport::WebRtcTransport* transport) = 0;
  // Routes datagrams from `endpoint` to `transport`. An endpoint another live transport holds
  // stays with it (a participant cannot claim someone else's address with a spoofed check).
  virtual void registerEndpoint(const net::Endpoint& endpoint, transport::WebRtcTransport* transport) = 0;
  virtual void unregisterEndpoint(const net::Endpoint& endpoint, transport::WebRtcTransport* transport) = 0;
  virtual void unregisterTransport(transport::WebRtcTransport* transport) = 0;
  virtual uint64_t nextTransportId() = 0;
  // A subscribe transport that media worker `worker` hosts (docs/fanout.md): the proxy the Router
  // sends through, or null when this host cannot (no link to that worker, or it is this one), in
  // which case the Router makes a local transport.
  virtual std::unique_ptr<transport::MediaTransport> createRemoteTransport(
      int /*worker*/, const transport::WebRtcTransport::Params& /*params*/, ProxyTransport::Listener& /*listener*/) {
    return nullptr;
  }
  // When the datagram now being handled reached the host, if the host knows it better than the
  // `now` it passes along (which may be one time for a whole receive batch): the kernel's
  // receive timestamp. transport-cc feedback reports it.
  virtual std::optional<common::TimePoint> datagramArrival() const { return std::nullopt; }
  // The time for what the Router does outside a packet or a tick (a new transport or consumer, a
  // layer limit, a producer's pause): the steady clock, or a test's simulated one, so that the
  // estimators and timers those start never mix two clocks.
  virtual common::TimePoint now() const { return std::chrono::steady_clock::now(); }
};

enum class TransportRole : uint8_t { Publish, Subscribe };

// Events for the control plane (called on the worker thread; the receiver must post them on).
class RouterObserver {
 public:
  virtual ~RouterObserver() = default;
  virtual void onTransportFailed(const std::string& participantId, TransportRole role, std::string_view reason) = 0;
  // DTLS is up on the transport and SRTP protects it with the profile named `srtpProfile` (for
  // the privacy receipt).
  virtual void onTransportSecured(const std::string& /*participantId*/, TransportRole /*role*/,
                                  std::string_view /*srtpProfile*/) {}
};

class Router final : private transport::WebRtcTransport::Listener, private ProxyTransport::Listener {
 public:
  struct Stats {
    uint64_t rtpForwarded = 0;
    uint64_t rtpDropped = 0;  // unknown SSRC, etc.
    uint64_t retransmitted = 0;
    uint64_t retransmitsRefused = 0;  // over a consumer's per-packet limits or byte budget
    uint64_t keyframeRequests = 0;
    uint64_t rtpPaused = 0;                  // of a paused producer (muted by a host or by a policy): not forwarded
    uint64_t nacksSent = 0;                  // sequence numbers NACKed toward publishers, retries included
    uint64_t rtxRepaired = 0;                // publishers' RTX packets that filled a hole, forwarded
    uint64_t transportFeedbackSent = 0;      // transport-cc feedback messages to publishers
    uint64_t transportFeedbackReceived = 0;  // from subscribers, read
    uint64_t transportPacketsReported = 0;   // packets those named (sent by us)
    uint64_t transportPacketsLost = 0;       // of those, not received
    uint64_t layerSwitches = 0;              // a consumer moved to another simulcast layer
    // Subscriber bandwidth (SubscriberBandwidth): switches up and down (layerSwitches counts both),
    // probe clusters and their padding packets, what the estimate refused, and the estimates seen
    // at each allocation (per subscriber, every 200 ms): count, sum in kbit/s, and how many were
    // below 300 kbit/s, 1 Mbit/s and 3 Mbit/s (a histogram's cumulative buckets).
    uint64_t layerSwitchesUp = 0;
    uint64_t layerSwitchesDown = 0;
    uint64_t probeClusters = 0;
    uint64_t probePackets = 0;
    uint64_t retransmitsOverEstimate = 0;  // retransmissions dropped, the estimate had no room
    uint64_t videoOverEstimate = 0;        // video packets dropped, the subscriber deep in debt
    uint64_t consumersPausedForBandwidth = 0;
    uint64_t estimates = 0;
    uint64_t estimateKbpsSum = 0;
    uint64_t estimatesUnder300k = 0;
    uint64_t estimatesUnder1M = 0;
    uint64_t estimatesUnder3M = 0;
  };

  Router(TransportHost& host, RouterObserver* observer);
  ~Router() override;

  void addParticipant(const std::string& participantId);
  void removeParticipant(const std::string& participantId);
  // Creates the transport, or updates the remote parameters of an existing one, or restarts its
  // ICE when the local credentials changed (the DTLS association carries on).
  void setTransport(const std::string& participantId, TransportRole role, const TransportSpec& spec);
  void addProducer(const std::string& participantId, const ProducerSpec& spec);
  void removeProducer(uint64_t producerId);
  // Stops (or resumes) forwarding one producer's packets; its consumers stay, so resuming needs
  // no renegotiation. Resuming video asks the publisher for a keyframe.
  void setProducerPaused(uint64_t producerId, bool paused);
  void addConsumer(const std::string& subscriberId, const ConsumerSpec& spec);
  void removeConsumer(uint64_t consumerId);
  // Simulcast: the highest layer a consumer may receive (0 lowest), and pausing it (a hidden
  // tile). Unknown ids are ignored.
  void setConsumerMaxLayer(uint64_t consumerId, int layer);
  void setConsumerPaused(uint64_t consumerId, bool paused);

  // Timers: transport consent and DTLS, receiver reports and bandwidth hints to publishers,
  // pending keyframe requests. The media worker calls it every 50 ms (kTickInterval in
  // worker.cpp); anything up to a few hundred ms keeps ICE and DTLS working.
  void tick(common::TimePoint now);

  bool empty() const { return mParticipants.empty(); }
  const Stats& stats() const { return mStats; }
  size_t producerCount() const { return mProducers.size(); }
  size_t consumerCount() const { return mConsumers.size(); }
  // Bytes the producers' retransmission caches hold allocated.
  size_t cacheBytes() const;
  const Producer* producer(uint64_t id) const;
  const Consumer* consumer(uint64_t id) const;
  // The participant's transport if it lives on this worker (a subscribe transport another worker
  // hosts is not here: null).
  const transport::WebRtcTransport* transport(const std::string& participantId, TransportRole role) const;
  // A subscriber's estimate and budget (null: no transport-cc negotiated toward it yet).
  const SubscriberBandwidth* bandwidth(const std::string& participantId) const;

 private:
  struct Participant {
    std::string id;
    std::unique_ptr<transport::WebRtcTransport> publish;
    // On this worker, or a ProxyTransport for one another worker hosts.
    std::unique_ptr<transport::MediaTransport> subscribe;
    // Producers of this participant by SSRC (media and RTX), for the receive path.
    std::vector<std::pair<uint32_t, Producer*>> bySsrc;
    // Consumers of this participant by their SSRC, for NACK/PLI from the subscriber.
    std::vector<std::pair<uint32_t, Consumer*>> consumersBySsrc;
    // transport-cc: arrivals on the publish transport (feedback to the publisher), numbering and
    // feedback on the subscribe transport. Created with the first use.
    std::unique_ptr<rtcp::TransportCcRecorder> publishCc;
    // The publisher's own id of the transport-wide sequence number extension (one id for the
    // whole BUNDLE group; 0: not negotiated), read before any remapping.
    uint8_t publishCcId = 0;
    std::unique_ptr<TransportCcSender> subscribeCc;
    // The subscriber's downlink estimate, send budget and layer allocation (with subscribeCc).
    std::unique_ptr<SubscriberBandwidth> bandwidth;
    // Producers sent with simulcast, whose layers' SSRCs are learned from rid extensions.
    std::vector<Producer*> simulcastProducers;
    // The layer SSRCs of removed simulcast producers, for a producer on the same section later
    // (Producer::inheritLayerSsrc); the newest kMaxRetiredLayerSsrcs.
    struct RetiredSsrc {
      std::string mid;
      std::string rid;
      uint32_t ssrc = 0;
      bool repair = false;
    };
    std::vector<RetiredSsrc> retiredSsrcs;
  };
  static constexpr size_t kMaxRetiredLayerSsrcs = 24;

  // transport::WebRtcTransport::Listener
  void onTransportConnected(transport::WebRtcTransport& transport) override { transportConnected(transport); }
  void onTransportEndpoint(transport::WebRtcTransport& transport, const net::Endpoint& endpoint) override;
  void onTransportEndpointRemoved(transport::WebRtcTransport& transport, const net::Endpoint& endpoint) override;
  void onTransportRtp(transport::WebRtcTransport& transport, rtp::RtpPacket& packet, common::TimePoint now) override;
  void onTransportRtcp(transport::WebRtcTransport& transport, std::span<uint8_t> compound,
                       common::TimePoint now) override {
    transportRtcp(transport, compound, now);
  }
  void onTransportIceDisconnected(transport::WebRtcTransport& transport, std::string_view reason) override {
    transportIceDisconnected(transport, reason);
  }
  void onTransportIceReconnected(transport::WebRtcTransport& transport) override { transportIceReconnected(transport); }
  void onTransportClosed(transport::WebRtcTransport& transport, std::string_view reason) override;
  // ProxyTransport::Listener: the same events of a subscribe transport another worker hosts.
  void onProxyConnected(ProxyTransport& transport) override { transportConnected(transport); }
  void onProxyRtcp(ProxyTransport& transport, std::span<uint8_t> compound, common::TimePoint now) override {
    transportRtcp(transport, compound, now);
  }
  void onProxyIceDisconnected(ProxyTransport& transport, std::string_view reason) override {
    transportIceDisconnected(transport, reason);
  }
  void onProxyIceReconnected(ProxyTransport& transport) override { transportIceReconnected(transport); }
  void onProxyClosed(ProxyTransport& transport, std::string_view reason) override {
    transportClosed(transport, reason);
  }
  void transportConnected(transport::MediaTransport& transport);
  void transportRtcp(transport::MediaTransport& transport, std::span<uint8_t> compound, common::TimePoint now);
  void transportIceDisconnected(transport::MediaTransport& transport, std::string_view reason);
  void transportIceReconnected(transport::MediaTransport& transport);
  void transportClosed(transport::MediaTransport& transport, std::string_view reason);

  Participant* owner(const transport::MediaTransport& transport);
  static TransportRole roleOf(const Participant& p, const transport::MediaTransport& transport) {
    return p.publish.get() == &transport ? TransportRole::Publish : TransportRole::Subscribe;
  }
  // `repair`: an RTX repair of a packet first sent earlier. It goes only to consumers already
  // forwarding this layer: a consumer waiting for its first keyframe must not start on a packet
  // from before it subscribed (encrypted, perhaps, under a key an ex-member still holds).
  // True if a consumer takes `layer` after it (Producer::takesLayer): the packet is to be cached.
  bool forward(Producer& producer, int layer, const rtp::RtpPacket& packet, common::TimePoint now, bool repair = false);
  // One consumer's share of forward().
  void forwardTo(Consumer& c, Producer& producer, int layer, const rtp::RtpPacket& packet, common::TimePoint now,
                 bool repair);
  // A packet of an SSRC the participant has not announced: a simulcast layer's first packets.
  Producer* learnSimulcastSsrc(Participant& publisher, const rtp::RtpPacket& packet);
  void tapPayload(const Producer& producer, const rtp::RtpPacket& packet);
  void onPublisherRtcp(Participant& publisher, std::span<const uint8_t> compound, common::TimePoint now);
  void onSubscriberRtcp(Participant& subscriber, std::span<const uint8_t> compound, common::TimePoint now);
  void retransmit(Participant& subscriber, Consumer& consumer, uint16_t seq, common::TimePoint now);
  // Upstream repair: RTX from the publisher, NACKs toward it (rtp::NackGenerator).
  void onPublisherRtx(Producer& producer, int layer, rtp::RtpPacket& rtx, common::TimePoint now);
  void sendNacks(Producer& producer, int layer, common::TimePoint now);
  // transport-cc: an arrival on a publish transport (any SSRC: media, RTX, padding, a layer not
  // yet learned); a packet about to go out to a subscriber.
  void recordArrival(Participant& publisher, const rtp::RtpPacket& packet, common::TimePoint now);
  // Numbers the packet in the subscriber's transport-wide sequence and charges its send budget.
  static void stampTransportCc(const Consumer& consumer, std::span<uint8_t> bytes, rtp::SentKind kind,
                               common::TimePoint now, int probeClusterId = -1);
  // Subscriber bandwidth: the layer allocation (every SubscriberBandwidth::kAllocationInterval) and
  // the probe packets due now (padding on the RTX stream of `via`, or of any video consumer).
  void allocate(Participant& subscriber, common::TimePoint now);
  void sendProbes(Participant& subscriber, common::TimePoint now);
  void sendProbes(SubscriberBandwidth& bandwidth, Consumer& via, common::TimePoint now);
  void sendTransportFeedback();
  // Per-packet results of a subscriber's transport-cc feedback, in its order: the bandwidth
  // estimator's input (for now only counted).
  void onTransportFeedback(Participant& subscriber, std::span<const bwe::PacketResult> results, common::TimePoint now);
  void requestKeyframe(Producer& producer, common::TimePoint now) { requestKeyframe(producer, 0, now); }
  void requestKeyframe(Producer& producer, int layer, common::TimePoint now);
  // For a consumer that needs one: of the layer it waits for.
  void requestKeyframeFor(Consumer& consumer, common::TimePoint now);
  void sendKeyframeRequest(Producer& producer, int layer);
  void sendReports(common::TimePoint now);
  void forwardSenderReport(Producer& producer, int layer);
  void destroyTransport(std::unique_ptr<transport::WebRtcTransport>& transport);
  void destroyTransport(std::unique_ptr<transport::MediaTransport>& transport);

  TransportHost& mHost;
  RouterObserver* mObserver;
  uint32_t mRtcpSsrc;  // our SSRC in RTCP toward publishers
  std::map<std::string, Participant> mParticipants;
  std::unordered_map<uint64_t, Participant*> mByTransport;
  std::map<uint64_t, std::unique_ptr<Producer>> mProducers;
  std::map<uint64_t, std::unique_ptr<Consumer>> mConsumers;
  common::TimePoint mNextReport{};
  Stats mStats;
  std::vector<bwe::PacketResult> mFeedbackResults;  // TransportCcSender::kMaxResults, for one feedback
  // Scratch for allocate(), reused (it grows to the largest subscriber's video consumer count).
  std::vector<Consumer*> mAllocConsumers;
  std::vector<bwe::VideoDemand> mAllocDemands;
  std::vector<int> mAllocLayers;
};

}  // namespace conclave::sfu
