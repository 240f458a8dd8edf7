// Rooms and their participants, as the control plane keeps them: in memory only.
//
// A room exists while somebody is in it and for a grace period after the last one left; nothing
// about it is written to disk. Profiles are opaque strings relayed as they came.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ed25519.h"
#include "common/log.h"
#include "common/result.h"
#include "common/token_bucket.h"
#include "conference/media_room.h"
#include "net/source_key.h"
#include "signaling/admission_guard.h"
#include "signaling/host_token.h"
#include "signaling/meeting_store.h"
#include "signaling/messages.h"
#include "signaling/pin_hasher.h"
#include "signaling/privacy_receipt.h"
#include "signaling/protocol.h"
#include "signaling/room_id.h"
#include "signaling/security_log.h"
#include "signaling/turn_credentials.h"

namespace conclave::conference {
class MediaPlane;
}
namespace conclave::store {
class FileStore;
}

namespace conclave::signaling {

// A connected client as the room logic sees it. What the conference layer tells it becomes a
// protocol message here.
class Peer : public conference::MediaPeer {
 public:
  ~Peer() override = default;
  virtual void send(const nlohmann::json& message) = 0;
  // A message already serialized, shared by every recipient of a broadcast.
  // By value: a transport keeps the pointer (this default only reads it).
  virtual void sendText(std::shared_ptr<const std::string> text) {  // NOLINT(performance-unnecessary-value-param)
    send(nlohmann::json::parse(*text));
  }
  // Bytes waiting to be written to this client (its reading speed, as the server sees it).
  virtual size_t queuedBytes() const { return 0; }
  // Closes the connection after what was sent so far (a goodbye) has gone out.
  virtual void close() {}

  void subscribeOffer(const std::string& sdp, const std::vector<conference::OfferedTrack>& tracks) override;
  void mediaFailed(sfu::TransportRole role) override;
};

class RoomManager {
 public:
  struct Settings {
    size_t maxParticipants = 100;
    common::Duration grace = std::chrono::seconds(60);
    // Relay traffic a room may cause, counted as bytes out (a broadcast counts once per
    // recipient), and the queue of one member above which senders wait for it.
    double relayBytesPerSecond = 1024 * 1024;
    double relayBurstBytes = 4 * 1024 * 1024;
    size_t congestedQueueBytes = size_t{1024} * 1024;
    // The lobby's budgets: people, bytes of their profiles (a `lobby` message stays far below a
    // client's outbox limit), how long one may wait, and how often hosts get the list at most.
    size_t maxLobby = kMaxLobbySize;
    size_t maxLobbyProfileBytes = size_t{1024} * 1024;
    common::Duration lobbyTimeout = std::chrono::minutes(15);
    common::Duration lobbyUpdateInterval = std::chrono::seconds(1);
    AdmissionGuard::Limits guard = {};
    // Security event log entries are kept this long (security_log_retention_days).
    common::Duration securityLogRetention = std::chrono::hours(24 * 7);
    // After move-meeting, the old room's remaining connections are closed this much later.
    common::Duration moveGrace = std::chrono::seconds(30);
  };
  struct Moved {
    std::string roomId;
    std::string hostToken;
    std::string moderatorToken;
  };
  struct JoinRequest {
    std::string profile;
    Role role = Role::Participant;
    // The client's network (its connection's), for the ban table and the failure counters.
    net::SourceKey source{};
    bool pinGiven = false;
    // The PIN given was checked against the meeting's hash (off the I/O thread, by the caller).
    bool pinChecked = false;
    // The credential the client presented; when it is one of the meeting's role grants, the
    // grant follows the new participant ID (so a later demotion still revokes it).
    std::string credential;
  };
  enum class JoinState { Joined, Waiting, CheckPin };
  struct Joined {
    JoinState state = JoinState::Joined;
    std::string participantId;
    std::vector<ParticipantInfo> others;
    JoinedInfo info;
    std::string reason;   // Waiting: "lobby" or "host-absent"
    std::string pinHash;  // CheckPin: what the PIN must match
  };

  // `media` and `files` may be null (signaling only, as in unit tests).
  RoomManager(const RoomIdIssuer& issuer, Settings settings, conference::MediaPlane* media = nullptr,
              store::FileStore* files = nullptr);
  ~RoomManager();

  std::string createRoomId() const { return mIssuer.issue(); }
  // Host and moderator tokens (a random key unless setHostTokenKey() gave the server's).
  const HostTokens& hostTokens() const { return mHostTokens; }
  void setHostTokenKey(std::vector<uint8_t> key) { mHostTokens = HostTokens(std::move(key)); }
  // Where settings are kept (an in-memory store unless one is set) and who hashes PINs (on the
  // calling thread unless one is set). Set before the first join; not owned.
  void setMeetingStore(MeetingStore* store) { mStore = store; }
  MeetingStore& meetingStore() { return *mStore; }
  void setPinHasher(PinHasher* hasher) { mHasher = hasher; }
  PinHasher& pinHasher() { return *mHasher; }
  AdmissionGuard& admission() { return mGuard; }
  // The settings a new meeting starts with: the server's limits, nothing else on.
  MeetingSettings defaultSettings() const;

  // Lets `peer` into the room, or into its lobby, or says why not (RoomNotFound, RoomFull,
  // MeetingLocked, Banned, PinRequired), counting failures against the source and the meeting.
  // CheckPin: the caller checks the PIN against `pinHash` and calls again with pinChecked.
  // Hosts pass lock, PIN, lobby and bans; moderators lock, PIN and lobby.
  common::Result<Joined, ErrorCode> join(const std::string& roomId, Peer& peer, JoinRequest request,
                                         common::TimePoint now);
  // The role of a member of the room, or nullopt when it is not one (also while waiting).
  std::optional<Role> roleOf(const std::string& roomId, const std::string& participantId) const;
  bool isWaiting(const std::string& roomId, const std::string& participantId) const;
  // `by` (a host) gives `target` a role; everyone is told. The error is NotAllowed or
  // ParticipantNotFound. A host or moderator role comes with a grant (a random token sent to
  // `target` only) that gives the role back when the same browser rejoins after a reconnect;
  // any later role change for that person revokes it.
  std::optional<ErrorCode> setRole(const std::string& roomId, const std::string& by, const std::string& target,
                                   Role role, common::TimePoint now);
  // The role a grant gives in the meeting, or nullopt (kept in memory for the meeting's life).
  std::optional<Role> grantedRole(const std::string& roomId, std::string_view token) const;
  static constexpr size_t kMaxRoleGrants = 64;
  // Whether `by` may make `change` (NotAllowed, NotJoined), before the caller hashes a new PIN.
  std::optional<ErrorCode> mayChangeSettings(const std::string& roomId, const std::string& by,
                                             const SettingsChange& change) const;
  // Applies `change` (its PIN as `pinHash`, already hashed; ignored when change.pin is unset or
  // empty), stores it and tells everyone; the lobby follows (lobby off: everyone waiting is in).
  std::optional<ErrorCode> changeSettings(const std::string& roomId, const std::string& by,
                                          const SettingsChange& change, const std::string& pinHash,
                                          common::TimePoint now);
  // Hosts and moderators let one (or, with an empty `target`, everyone) in from the lobby, or
  // turn one away (goodbye `denied`). Errors: NotAllowed, NotWaiting, RoomFull.
  std::optional<ErrorCode> admit(const std::string& roomId, const std::string& by, const std::string& target,
                                 common::TimePoint now);
  std::optional<ErrorCode> deny(const std::string& roomId, const std::string& by, const std::string& target,
                                common::TimePoint now);
  // Sends the lobby list to one host or moderator (after its `joined`).
  void sendLobby(const std::string& roomId, const std::string& participantId);

  void updateProfile(const std::string& roomId, const std::string& participantId, std::string profile);
  // Leaves the room or its lobby.
  void leave(const std::string& roomId, const std::string& participantId, common::TimePoint now);

  // Hands `payload` (opaque) from one participant to another, or to all others when `to` is
  // empty, serialized once and stamped with its `kind` ("chat" or "control"). Gives the bytes
  // sent in all (charged to the room's relay budget), or nullopt if `to` or `from` is not in the
  // room (`from` was removed and its connection is closing).
  std::optional<size_t> relay(const std::string& roomId, const std::string& from, const std::string& to,
                              const std::string& payload, common::TimePoint now, std::string_view kind = "control");
  // How long senders in the room must wait for its relay budget.
  common::Duration relayWait(const std::string& roomId, common::TimePoint now);
  // True while some member other than `participantId` has more queued than it can take.
  bool congested(const std::string& roomId, const std::string& participantId) const;

  // Drops rooms that have been empty for longer than the grace period, sends lobby lists that
  // waited for their interval, and sends away who waited in a lobby too long.
  void tick(common::TimePoint now);

  // The media side of a room, or null (no media plane).
  conference::MediaRoom* media(const std::string& roomId);
  store::FileStore* files() { return mFiles; }
  // Where joined participants get TURN credentials, or null (no TURN server configured).
  void setTurn(const TurnIssuer* turn) { mTurn = turn; }
  const TurnIssuer* turn() const { return mTurn; }

  size_t roomCount() const { return mRooms.size(); }
  size_t participantCount(const std::string& roomId) const;
  // Joined participants in all rooms (for /metrics).
  size_t participantTotal() const;
  size_t waitingCount(const std::string& roomId) const;

  // ---- Host controls and policies (room_controls.cpp) ----
  // Each takes the acting participant (`by`) and checks its role: NotAllowed for a participant
  // (or a moderator acting on a host), ParticipantNotFound for a target not in the meeting.

  // Stops forwarding `target`'s `source` (microphone, camera, screen; screen includes
  // screen-audio) until the target unmutes itself; the target gets `muted-by-host`.
  std::optional<ErrorCode> mute(const std::string& roomId, const std::string& by, const std::string& target,
                                const std::string& source);
  // Asks `target` to unmute `source` (`unmute-request`); from then on it may.
  std::optional<ErrorCode> requestUnmute(const std::string& roomId, const std::string& by, const std::string& target,
                                         const std::string& source);
  // The participant unmutes its own `source`: allowed when the unmute policy lets it, or a host
  // or moderator asked since the mute. ForbiddenByPolicy otherwise, and for a camera or screen the
  // policy does not let it share.
  std::optional<ErrorCode> unmute(const std::string& roomId, const std::string& participantId,
                                  const std::string& source);
  // What the meeting's policies let `participantId` do now.
  conference::SourceSet forbiddenSources(const std::string& roomId, const std::string& participantId) const;
  bool mayChat(const std::string& roomId, const std::string& participantId) const;
  bool mayShareFiles(const std::string& roomId, const std::string& participantId) const;
  // After the policies or roles changed (`by` changed them): tracks of sources someone may no
  // longer share are stopped like a mute (`muted-by-host` from `by`); allowed ones go on.
  void applyPolicies(const std::string& roomId, const std::string& by);
  // Closes `target`'s connection with goodbye `removed` and bans its source for the meeting's life.
  std::optional<ErrorCode> remove(const std::string& roomId, const std::string& by, const std::string& target,
                                  common::TimePoint now);
  // Everyone gets goodbye `meeting-ended`; joins get meeting-ended from then on. Hosts only.
  std::optional<ErrorCode> endMeeting(const std::string& roomId, const std::string& by, common::TimePoint now);
  // A new room ID with the meeting's settings (and PIN and bans); joins of the old one get
  // meeting-moved, and its remaining connections are closed after moveGrace. Hosts only.
  common::Result<Moved, ErrorCode> moveMeeting(const std::string& roomId, const std::string& by, common::TimePoint now);
  // ErrorCode::MeetingEnded or MeetingMoved for a meeting that ended or moved, else nullopt.
  std::optional<ErrorCode> closedMeeting(const std::string& roomId) const;

  // The security event log (an in-memory one unless setSecurityLog gave another), and the wall
  // clock its entries are stamped with (tests set their own).
  void setSecurityLog(SecurityLog* log);
  void setWallClock(MillisClock clock) { mWallClock = std::move(clock); }
  SecurityLog& securityLog() { return *mLog; }
  void logEvent(const std::string& roomId, SecurityEventType type, std::string actor = {}, std::string subject = {},
                std::string detail = {});
  // ---- The privacy receipt (privacy_receipt.cpp) ----
  // The key receipts are signed with (a random one unless set; not owned) and the facts of the
  // configuration they state.
  void setReceiptKey(const common::Ed25519PrivateKey* key) { mReceiptKey = key; }
  const common::Ed25519PrivateKey& receiptKey() const { return mReceiptKey ? *mReceiptKey : mOwnReceiptKey; }
  void setReceiptFacts(ReceiptFacts facts) { mReceiptFacts = std::move(facts); }
  // What the server holds about the meeting now, signed (signReceipt()): for a member `by` of
  // the room (NotJoined otherwise, also while waiting in the lobby).
  common::Result<nlohmann::json, ErrorCode> privacyReceipt(const std::string& roomId, const std::string& by,
                                                           common::TimePoint now);
  // The receipt's content, unsigned.
  nlohmann::json receiptContent(const std::string& roomId, common::TimePoint now);
  // Counts a line that the code writes to the server log about the room (by subsystem and level,
  // when that level is written at all), for the receipt. Names no content.
  void countLogLine(const std::string& roomId, std::string_view subsystem, spdlog::level::level_enum level);

  // The log for a host or moderator `by`: NotAllowed otherwise.
  common::Result<std::vector<SecurityEvent>, ErrorCode> readSecurityLog(const std::string& roomId,
                                                                        const std::string& by,
                                                                        std::optional<int64_t> before, size_t limit);

 private:
  struct Member {
    ParticipantInfo info;
    Peer* peer;
    net::SourceKey source;
    // Host controls: sources a host muted, and those a host asked to unmute since.
    conference::SourceSet muted;
    conference::SourceSet unmuteRequested;
    int64_t joinedAt = 0;  // wall clock, ms since the epoch
    // The SRTP profiles of its publish and subscribe transports, once DTLS is up ("" before).
    std::string publishSrtp;
    std::string subscribeSrtp;
  };
  struct Waiting {
    ParticipantInfo info;
    Peer* peer;
    net::SourceKey source;
    common::TimePoint since;
    std::string reason;
  };
  struct Room {
    std::vector<Member> members;
    MeetingSettings settings;
    std::string pinHash;
    std::vector<Waiting> waiting;
    size_t waitingBytes = 0;
    bool lobbyDirty = false;
    std::optional<common::TimePoint> lobbySentAt;
    std::optional<common::TimePoint> emptySince;
    std::unique_ptr<conference::MediaRoom> media;
    std::optional<common::DebtBucket> relayBudget;
    // Set by move-meeting: the remaining connections are closed at this time.
    std::optional<common::TimePoint> closeMovedAt;
    // Roles hosts handed out, redeemable by the same browser after a reconnect; the oldest goes
    // first beyond kMaxRoleGrants.
    struct Grant {
      std::string token;
      std::string participantId;
      Role role;
    };
    std::vector<Grant> grants;
    int64_t openedAt = 0;  // wall clock, ms since the epoch
    // Lines written to the server log about this room, by "subsystem/level" (a few fixed keys).
    std::map<std::string, uint64_t, std::less<>> logLines;
  };
  using RoomIt = std::map<std::string, Room>::iterator;

  // The room (opened with its stored settings when the ID is valid), or end().
  RoomIt findOrOpen(const std::string& roomId);
  void closeRoom(RoomIt it);
  // room_controls.cpp
  Member* findMember(Room& room, const std::string& participantId);
  const Member* findMember(const Room& room, const std::string& participantId) const;
  // The acting member if it is a host or moderator (and, when `target` is given, may act on it).
  Member* moderator(Room& room, const std::string& by, const Member* target = nullptr);
  // Pauses the member's sources that are muted or that the policies forbid it.
  void updatePausedSources(Room& room, const Member& member);
  // Says goodbye with `reason` to every member and everyone waiting, closes them and takes them
  // out of the room.
  void dismissAll(Room& room, std::string_view reason);
  // Records in the meeting store that the meeting ended or moved (joins are refused from then on;
  // a persistent room's end is not recorded: its stable link serves the next meeting).
  void markClosed(const std::string& roomId, const Room& room, bool ended);
  void tickControls(common::TimePoint now);
  void onTransportFailed(const std::string& participantId, sfu::TransportRole role);
  void onTransportSecured(const std::string& participantId, sfu::TransportRole role, const std::string& profile);
  common::Result<Joined, ErrorCode> fail(const std::string& roomId, const net::SourceKey& source, ErrorCode code,
                                         common::TimePoint now);
  // Why someone of `role` must wait now ("lobby", "host-absent"), or empty when it need not.
  static std::string waitReason(const Room& room, Role role);
  static bool hostPresent(const Room& room);
  size_t capacity(const Room& room) const;
  Member& addMember(const std::string& roomId, Room& room, ParticipantInfo info, Peer& peer,
                    const net::SourceKey& source);
  // Moves waiting[index] into the meeting and sends it `joined`. False when the meeting is full.
  bool admitWaiting(const std::string& roomId, Room& room, size_t index, common::TimePoint now);
  void removeWaiting(Room& room, size_t index);
  // After a change of who is in or of the settings: lets in who need not wait any longer and
  // tells the others a new reason.
  void reconsiderLobby(const std::string& roomId, Room& room, common::TimePoint now);
  void lobbyChanged(Room& room, common::TimePoint now);
  void flushLobby(Room& room, common::TimePoint now, bool force);
  void updateEmpty(Room& room, common::TimePoint now);
  void storeSettings(const std::string& roomId, const Room& room);
  // Security log entries for what a settings change changed.
  void logSettingsChange(const std::string& roomId, const std::string& by, const MeetingSettings& before,
                         const MeetingSettings& after, const SettingsChange& change);

  // Serializes `message` once for every member but `except`; gives the bytes sent.
  size_t broadcast(const Room& room, const std::string& except, const nlohmann::json& message);

  const RoomIdIssuer& mIssuer;
  Settings mSettings;
  conference::MediaPlane* mMedia;
  store::FileStore* mFiles;
  const TurnIssuer* mTurn = nullptr;
  HostTokens mHostTokens;
  InMemoryMeetingStore mOwnStore;
  InlinePinHasher mOwnHasher;
  MeetingStore* mStore = &mOwnStore;
  PinHasher* mHasher = &mOwnHasher;
  AdmissionGuard mGuard;
  std::map<std::string, Room> mRooms;
  MemorySecurityLog mOwnLog;
  SecurityLog* mLog = &mOwnLog;
  MillisClock mWallClock = systemClockMs;
  common::Ed25519PrivateKey mOwnReceiptKey;
  const common::Ed25519PrivateKey* mReceiptKey = nullptr;
  ReceiptFacts mReceiptFacts;
};

}  // namespace conclave::signaling
