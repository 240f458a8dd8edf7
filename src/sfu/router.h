// A room on a media worker: the participants' transports, their producers and consumers, and
// the forwarding between them. Single-threaded (the worker's thread); no locks; the forwarding
// path does not allocate.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "sfu/consumer.h"
#include "sfu/media.h"
#include "sfu/producer.h"
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

class Router final : private transport::WebRtcTransport::Listener {
 public:
  struct Stats {
    uint64_t rtpForwarded = 0;
    uint64_t rtpDropped = 0;  // unknown SSRC, etc.
    uint64_t retransmitted = 0;
    uint64_t retransmitsRefused = 0;  // over a consumer's per-packet limits or byte budget
    uint64_t keyframeRequests = 0;
    uint64_t rtpPaused = 0;  // of a paused producer (muted by a host or by a policy): not forwarded
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
  const transport::WebRtcTransport* transport(const std::string& participantId, TransportRole role) const;

 private:
  struct Participant {
    std::string id;
    std::unique_ptr<transport::WebRtcTransport> publish;
    std::unique_ptr<transport::WebRtcTransport> subscribe;
    // Producers of this participant by SSRC (media and RTX), for the receive path.
    std::vector<std::pair<uint32_t, Producer*>> bySsrc;
    // Consumers of this participant by their SSRC, for NACK/PLI from the subscriber.
    std::vector<std::pair<uint32_t, Consumer*>> consumersBySsrc;
  };

  // transport::WebRtcTransport::Listener
  void onTransportConnected(transport::WebRtcTransport& transport) override;
  void onTransportEndpoint(transport::WebRtcTransport& transport, const net::Endpoint& endpoint) override;
  void onTransportEndpointRemoved(transport::WebRtcTransport& transport, const net::Endpoint& endpoint) override;
  void onTransportRtp(transport::WebRtcTransport& transport, rtp::RtpPacket& packet, common::TimePoint now) override;
  void onTransportRtcp(transport::WebRtcTransport& transport, std::span<uint8_t> compound,
                       common::TimePoint now) override;
  void onTransportIceDisconnected(transport::WebRtcTransport& transport, std::string_view reason) override;
  void onTransportClosed(transport::WebRtcTransport& transport, std::string_view reason) override;

  Participant* owner(const transport::WebRtcTransport& transport);
  void forward(Producer& producer, const rtp::RtpPacket& packet, common::TimePoint now);
  void tapPayload(const Producer& producer, const rtp::RtpPacket& packet);
  void onPublisherRtcp(Participant& publisher, std::span<const uint8_t> compound, common::TimePoint now);
  void onSubscriberRtcp(Participant& subscriber, std::span<const uint8_t> compound, common::TimePoint now);
  void retransmit(Participant& subscriber, Consumer& consumer, uint16_t seq, common::TimePoint now);
  void requestKeyframe(Producer& producer, common::TimePoint now);
  void sendKeyframeRequest(Producer& producer);
  void sendReports(common::TimePoint now);
  void forwardSenderReport(Producer& producer);
  void destroyTransport(std::unique_ptr<transport::WebRtcTransport>& transport);

  TransportHost& mHost;
  RouterObserver* mObserver;
  uint32_t mRtcpSsrc;  // our SSRC in RTCP toward publishers
  std::map<std::string, Participant> mParticipants;
  std::unordered_map<uint64_t, Participant*> mByTransport;
  std::map<uint64_t, std::unique_ptr<Producer>> mProducers;
  std::map<uint64_t, std::unique_ptr<Consumer>> mConsumers;
  common::TimePoint mNextReport{};
  Stats mStats;
};

}  // namespace conclave::sfu
