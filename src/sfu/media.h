// The SFU's data model, as the control plane describes it to a media worker.
//
// Router (one per room, on one worker) → Producer (one per published track) → Consumer (one per
// subscriber of that track). The control plane negotiates SDP and sends these specs; the worker
// only forwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dtls/dtls_transport.h"
#include "ice/ice_server.h"
#include "transport/webrtc_transport.h"

namespace conclave::sfu {

enum class MediaKind : uint8_t { Audio, Video };

struct TransportSpec {
  ice::IceCredentials localIce;
  std::optional<ice::IceCredentials> remoteIce;
  std::optional<transport::RemoteFingerprint> remoteFingerprint;
  dtls::DtlsRole dtlsRole = dtls::DtlsRole::Server;
  // A subscribe transport: the media worker that hosts it (docs/fanout.md); -1, or the room's
  // own worker, hosts it there. Publish transports always live on the room's worker.
  int worker = -1;
};

struct ProducerSpec {
  uint64_t id = 0;
  MediaKind kind = MediaKind::Audio;
  uint32_t ssrc = 0;
  std::optional<uint32_t> rtxSsrc;
  uint8_t payloadType = 0;
  uint32_t clockRate = 48000;
  // Publisher's header extension id → the id subscribers negotiated (0: strip the element).
  std::vector<std::pair<uint8_t, uint8_t>> extensionMap;
  // Starts paused: its packets are dropped until Router::setProducerPaused(id, false) (a
  // participant a host muted publishes the muted source again).
  bool paused = false;
  // The transport-wide sequence number extension's id in this producer's packets after the
  // extension map (the subscribers' id; 0: not negotiated). Its arrivals are fed back to the
  // publisher (transport-cc) and each subscriber transport overwrites it with its own numbers.
  uint8_t transportCcId = 0;
  // Simulcast (video): the layers' rids, lowest first (at most Producer::kMaxLayers; empty: one
  // stream, `ssrc`), and the publisher's ids of the rid and repaired-rid header extensions, from
  // which the router learns each layer's SSRC (0: not negotiated). A packet that also carries the
  // mid extension must name `mid`.
  std::vector<std::string> rids;
  std::string mid;
  uint8_t midExtensionId = 0;
  uint8_t ridExtensionId = 0;
  uint8_t repairedRidExtensionId = 0;
};

struct ConsumerSpec {
  uint64_t id = 0;
  uint64_t producerId = 0;
  uint32_t ssrc = 0;  // the subscriber's view of the stream
  uint8_t payloadType = 0;
  // Retransmissions go out as RTX (RFC 4588) on this SSRC and payload type when set; else on the
  // media SSRC as they were.
  std::optional<uint32_t> rtxSsrc;
  uint8_t rtxPayloadType = 0;
  // The subscriber's transport-wide sequence number extension id (0: not negotiated).
  uint8_t transportCcId = 0;
};

}  // namespace conclave::sfu
