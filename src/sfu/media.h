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
};

struct ConsumerSpec {
  uint64_t id = 0;
  uint64_t producerId = 0;
  uint32_t ssrc = 0;  // the subscriber's view of the stream
  uint8_t payloadType = 0;
};

}  // namespace conclave::sfu
