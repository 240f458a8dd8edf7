// The control-plane side of media for one room: SDP negotiation of every participant's publish
// and subscribe connections, which producers exist, who consumes what. The data plane (the
// room's Router on a media worker) is driven by posting tasks to the worker.
//
// Subscriptions are batched: changes are collected and one subscribe offer covers them; while
// an offer waits for its answer, further changes wait for the next one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error_code.h"
#include "common/result.h"
#include "common/token_bucket.h"
#include "conference/placement.h"
#include "ice/ice_server.h"
#include "sdp/capabilities.h"
#include "sdp/publish.h"
#include "sdp/subscribe.h"
#include "sdp/transport.h"
#include "sfu/media.h"
#include "sfu/worker.h"

namespace conclave::conference {

// What the conference tells one participant's browser; the signaling layer turns each call
// into a protocol message.
struct OfferedTrack {
  std::string mid;
  sdp::MediaKind kind = sdp::MediaKind::Audio;
  std::string participantId;  // whose track
  std::string source;         // microphone, camera, screen, screen-audio
};
class MediaPeer {
 public:
  virtual ~MediaPeer() = default;
  // A new subscribe offer and what each of its receiving m-sections carries.
  virtual void subscribeOffer(const std::string& sdp, const std::vector<OfferedTrack>& tracks) = 0;
  // The publish or subscribe connection lost ICE; the browser should restart it.
  virtual void mediaFailed(sfu::TransportRole role) = 0;
};

// Shared by all rooms: the workers' addresses and what the SFU supports.
struct MediaEnvironment {
  sdp::Capabilities capabilities = sdp::Capabilities::defaults();
  sdp::Fingerprint fingerprint;  // of the DTLS certificate
  // One host candidate each, most preferred first (config: media_announced_address).
  std::vector<std::string> announcedAddresses;
  // Runs `task` on the control thread after `delay` (batching of renegotiations).
  std::function<void(common::Duration delay, std::function<void()> task)> schedule;
  // Budgets (issue 7): sending sections one publish may have, by kind (microphone + screen-audio,
  // camera + screen), and published tracks a room may hold. More is refused with too-many-tracks
  // before anything is allocated.
  size_t maxAudioTracks = 2;
  size_t maxVideoTracks = 2;
  size_t maxRoomTracks = 200;
  // What the participants' budgets (ICE restarts) count time with; null: the steady clock.
  const common::Clock* clock = nullptr;
};

struct MediaError {
  // BadSdp, NegotiationFailed, InvalidState, TooManyTracks, ForbiddenByPolicy or RateLimited
  common::ErrorCode code;
  std::string message;  // for humans
};

struct TrackSource {
  std::string mid;
  std::string source;  // microphone, camera, screen, screen-audio
};
// The size at which a subscriber renders one received video (device pixels; 0x0: not shown).
struct VideoPreference {
  std::string mid;  // of the subscribe connection's m-section
  uint32_t width = 0;
  uint32_t height = 0;
};
// The simulcast layer a video rendered that wide needs: 0 up to 320 px, 1 up to 640, else 2.
int layerForWidth(uint32_t width);

// Sources (microphone, camera, screen, screen-audio) by name.
using SourceSet = std::set<std::string, std::less<>>;

// The source a sending section carries: what the browser declared when it fits the section's
// kind (microphone or screen-audio for audio, camera or screen for video), else the kind's
// default, so that a declared source cannot slip a track past a policy or a mute of another kind.
std::string effectiveSource(sdp::MediaKind kind, std::string_view declared);

class MediaRoom {
 public:
  // ICE restarts one participant may ask for, its publish and subscribe connections together
  // (a publish offer with new credentials, a subscribe-restart): kIceRestartBurst at once, then
  // one per 6 s. A browser restarts after a failure or a network change, a few times in a bad
  // minute; each restart makes new credentials, a routing entry on a worker and, for the
  // subscribe connection, a new offer. Beyond the budget the request is refused with RateLimited
  // and changes nothing (the client's restart deadline then has it rejoin).
  static constexpr double kIceRestartBurst = 10;
  static constexpr double kIceRestartsPerSecond = 1.0 / 6;

  // The room's Router lives on `worker` (its home). With `placement`, which must outlive the room,
  // participants' subscribe transports may live on other workers (Placement says which, once per
  // participant) and the room keeps its counts of subscribed streams up to date; without, all of
  // them stay home.
  MediaRoom(std::string roomId, sfu::MediaWorker& worker, const MediaEnvironment& env, Placement* placement = nullptr);
  ~MediaRoom();
  MediaRoom(const MediaRoom&) = delete;
  MediaRoom& operator=(const MediaRoom&) = delete;

  void addParticipant(const std::string& participantId, MediaPeer& peer);
  void removeParticipant(const std::string& participantId);

  // A publish offer from the participant's browser: returns the answer SDP. An offer that sends
  // a source in `forbidden` (the meeting's policy) is refused with ForbiddenByPolicy and changes
  // nothing; so is an ICE restart (new credentials in the offer) over the participant's budget,
  // with RateLimited.
  common::Result<std::string, MediaError> publish(const std::string& participantId, std::string_view offer,
                                                  const std::vector<TrackSource>& sources,
                                                  const SourceSet& forbidden = {});
  // The participant's tracks of these sources are forwarded to no one (a host muted them, or a
  // policy forbids them now), also tracks of them published later; the others are forwarded.
  void setPausedSources(const std::string& participantId, SourceSet paused);
  // The sources the participant publishes now.
  SourceSet publishedSources(const std::string& participantId) const;
  // The browser's answer to the last subscribe offer.
  std::optional<MediaError> subscribeAnswer(const std::string& participantId, std::string_view answer);
  // The browser lost its subscribe connection: new ICE credentials and a new offer. RateLimited
  // over the participant's ICE restart budget (nothing changes then); a restart asked for while
  // one is already on its way joins it and costs nothing.
  std::optional<MediaError> restartSubscribe(const std::string& participantId);
  // The worker reported an ICE failure; the participant is told so it can restart ICE.
  void onTransportFailed(const std::string& participantId, sfu::TransportRole role);
  // The sizes at which the participant shows the videos it receives: each listed video
  // consumer's max layer follows its width (layerForWidth()), 0x0 pauses it. Videos not listed
  // keep their setting; unknown mids and audio are ignored (an offer may be on its way).
  void setVideoPreferences(const std::string& participantId, const std::vector<VideoPreference>& preferences);

  sfu::MediaWorker& worker() { return mWorker; }
  size_t producerCount() const { return mProducers.size(); }
  // The worker that hosts the participant's subscribe transport (null: none made yet, or not in
  // the room). Chosen when its first subscribe offer is built; never changes afterwards.
  const sfu::MediaWorker* subscribeWorker(const std::string& participantId) const;

 private:
  struct ProducerInfo {
    uint64_t id = 0;
    std::string participantId;
    std::string mid;
    sdp::MediaKind kind = sdp::MediaKind::Audio;
    std::string source;
    uint32_t ssrc = 0;
    bool paused = false;
  };
  struct Subscription {
    uint64_t consumerId = 0;
    sdp::OutgoingTrack track;
    // What video-preferences set last (-1: nothing yet, the consumer takes the top layer).
    int maxLayer = -1;
    bool paused = false;
  };
  struct Participant {
    explicit Participant(common::TimePoint now) : iceRestarts(kIceRestartsPerSecond, kIceRestartBurst, now) {}
    MediaPeer* peer = nullptr;
    common::TokenBucket iceRestarts;  // both connections' ICE restarts
    // Publish connection.
    std::optional<ice::IceCredentials> publishIce;
    std::string publishRemoteUfrag;
    sdp::SessionOrigin publishOrigin;
    // Subscribe connection.
    std::optional<ice::IceCredentials> subscribeIce;
    bool subscribeIceRestart = false;
    sdp::SessionOrigin subscribeOrigin;
    // The worker hosting the subscribe transport, chosen with it; and the subscriptions counted
    // for it in the Placement.
    sfu::MediaWorker* subscribeWorker = nullptr;
    size_t countedStreams = 0;
    sdp::MidAllocator mids;
    std::map<uint64_t, Subscription> subscriptions;  // by producer id
    std::string pendingOffer;                        // SDP waiting for its answer
    SourceSet paused;                                // sources not forwarded
    bool dirty = false;
    // Others' tracks this subscriber does not get for want of a free m-section, at the last
    // flush: the warning is logged when the number changes, not at every flush.
    size_t tracksWithoutSection = 0;
    bool flushScheduled = false;
  };

  void post(std::function<void(sfu::Router&)> task);
  common::TimePoint now() const;
  // Takes one ICE restart from the participant's budget, or says why not.
  std::optional<MediaError> chargeIceRestart(Participant& p);
  // Candidates on `worker`'s port (UDP, and ICE-TCP on the same number).
  sdp::LocalTransport localTransport(const ice::IceCredentials& ice, const sfu::MediaWorker& worker) const;
  // Brings the Placement's count for the participant's subscribe transport up to date.
  void countStreams(Participant& p);
  void updateProducers(const std::string& participantId, const sdp::PublishAnswer& answer,
                       const std::vector<TrackSource>& sources);
  std::optional<MediaError> checkTrackBudget(const std::string& participantId, const sdp::PublishAnswer& answer) const;
  std::optional<MediaError> checkPolicy(const sdp::PublishAnswer& answer, const std::vector<TrackSource>& sources,
                                        const SourceSet& forbidden) const;
  void markAllSubscribersDirty(const std::string& except);
  void scheduleFlush(const std::string& participantId);
  void flushSubscriptions(const std::string& participantId);

  std::string mRoomId;
  sfu::MediaWorker& mWorker;
  const MediaEnvironment& mEnv;
  Placement* mPlacement;
  std::map<std::string, Participant> mParticipants;
  std::map<uint64_t, ProducerInfo> mProducers;
  uint64_t mNextId = 1;
  std::shared_ptr<bool> mAlive = std::make_shared<bool>(true);
};

}  // namespace conclave::conference
