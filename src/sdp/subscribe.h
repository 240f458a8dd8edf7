// The SUBSCRIBE RTCPeerConnection: the server offers every track the participant should
// receive, the browser answers; renegotiated as publishers come and go.
//
// m-sections are never removed (JSEP §5.2.2 keeps their order forever). MidAllocator is the
// policy for reusing them:
//   - a removed track leaves its slot Inactive (a=inactive, same mid); the next track of the
//     same kind reuses that slot and mid, which the browser sees as the transceiver's direction
//     going back to sendonly, with a new msid and SSRC (a fresh `track` event);
//   - stop() turns a slot into port 0 (the browser stops the transceiver, the mid is dead);
//     once that offer has been answered (onNegotiated()), the m-line may be recycled for a
//     track of any kind under a new, never used mid;
//   - otherwise a new slot is appended with the next mid ("0", "1", ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/capabilities.h"
#include "sdp/session_description.h"
#include "sdp/transport.h"

namespace conclave::sdp {

enum class SlotState { Active, Inactive, Stopped };

class MidAllocator {
 public:
  struct Slot {
    std::string mid;
    MediaKind kind = MediaKind::Audio;
    SlotState state = SlotState::Active;
    bool recyclable = false;  // Stopped, and the browser has answered the port-0 offer
  };

  explicit MidAllocator(size_t maxSlots = 64) : mMaxSlots(maxSlots) {}

  // The mid for a new track of `kind` (the slot becomes Active); nullopt when all maxSlots
  // slots are in use.
  std::optional<std::string> acquire(MediaKind kind);
  // Active -> Inactive. False if `mid` is not an active slot.
  bool release(std::string_view mid);
  // Active or Inactive -> Stopped (port 0 in the next offer). False if unknown or stopped.
  bool stop(std::string_view mid);
  // Call when an answer to the current offer has been applied: stopped slots become recyclable.
  void onNegotiated();

  const std::vector<Slot>& slots() const { return mSlots; }
  const Slot* find(std::string_view mid) const;

 private:
  std::vector<Slot> mSlots;
  uint64_t mNextMid = 0;
  size_t mMaxSlots;
};

struct OutgoingTrack {
  std::string mid;  // from MidAllocator::acquire
  MediaKind kind = MediaKind::Audio;
  uint32_t ssrc = 0;
  std::optional<uint32_t> rtxSsrc;  // video: RTX retransmissions (ssrc-group FID)
  std::string cname;
  std::string streamId;  // msid stream (the publisher); tokens of at most 64 characters
  std::string trackId;   // msid track
};

// Error codes: unknown-mid, missing-track, kind-mismatch, no-codec, bad-track.
Result<std::string> buildSubscribeOffer(const std::vector<MidAllocator::Slot>& slots,
                                        const std::vector<OutgoingTrack>& tracks, const LocalTransport& transport,
                                        const SessionOrigin& origin, const Capabilities& capabilities);

struct SubscribeAnswerMedia {
  std::string mid;
  MediaKind kind = MediaKind::Other;
  bool accepted = false;
  Direction direction = Direction::Inactive;  // the browser's: recvonly or inactive
  std::vector<Codec> codecs;                  // what the browser accepted
  std::vector<HeaderExtension> extensions;
};

struct SubscribeAnswer {
  RemoteTransport remote;                     // empty when no section was accepted
  SetupRole localSetup = SetupRole::Passive;  // the server's DTLS role
  std::vector<SubscribeAnswerMedia> media;
  std::vector<std::string> bundleMids;
};

// Checks the browser's answer against the offer the server made. Error codes: answer-mismatch
// (sections, mids or kinds differ, or a stopped section was accepted), missing-bundle,
// rtcp-mux-required, bad-direction, unknown-codec, no-common-codec, bad-extmap, bad-setup,
// plus those of remoteTransport().
Result<SubscribeAnswer> checkSubscribeAnswer(const SessionDescription& offer, const SessionDescription& answer,
                                             const Capabilities& capabilities);

}  // namespace conclave::sdp
