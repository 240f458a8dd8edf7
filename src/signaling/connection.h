// The protocol state of one signaling client, apart from its transport: text in, JSON replies
// out through Peer. The WebSocket session owns one and feeds it; tests drive it directly.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/token_bucket.h"
#include "net/source_key.h"
#include "signaling/rooms.h"

namespace conclave::signaling {

struct ConnectionLimits {
  size_t maxMessageBytes = 65536;
  double rate = 50;
  double burst = 200;
  size_t maxDroppedBeforeClose = 200;
  // `video-preferences` (tile sizes): each one may reconfigure every consumer of the sender.
  double videoPreferencesRate = 5;
  double videoPreferencesBurst = 10;
  // Privacy receipts (each a signature and up to a few hundred KiB out): a few, then one per 5 s.
  double receiptRate = 0.2;
  double receiptBurst = 3;
  // Relay bytes this connection may cause (bytes out: a broadcast counts per recipient).
  double relayBytesPerSecond = 256 * 1024;
  double relayBurstBytes = 1024 * 1024;
};

class Connection {
 public:
  // `source` (the client's network, see source_table.h) is what per-source budgets count against.
  Connection(RoomManager& rooms, Peer& peer, ConnectionLimits limits, common::TimePoint now,
             const net::SourceKey& source = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void onText(std::string_view text, common::TimePoint now);
  // The transport closed: leaves the room (or its lobby).
  void onClosed(common::TimePoint now);

  // Set when the client must be disconnected (flooding); the session closes with 1008.
  bool mustClose() const { return mMustClose; }
  // Set once joined or waiting in a lobby.
  const std::string& participantId() const { return mParticipantId; }
  // Back-pressure: how long the transport must wait before it reads the next message (the
  // relay budgets of this connection and its room are in debt)...
  common::Duration readDelay(common::TimePoint now);
  // ...and whether it must wait for a member of the room that reads too slowly.
  bool relayBlocked() const;

 private:
  using Handler = void (Connection::*)(const nlohmann::json&, common::TimePoint);
  struct Route {
    std::string_view type;
    Handler handler;
  };
  static const Route kRoutes[];

  void handleHello(const nlohmann::json& msg, common::TimePoint now);
  void handleJoin(const nlohmann::json& msg, common::TimePoint now);
  void handleUpdateProfile(const nlohmann::json& msg, common::TimePoint now);
  void handleLeave(const nlohmann::json& msg, common::TimePoint now);
  void handlePing(const nlohmann::json& msg, common::TimePoint now);
  void handlePublish(const nlohmann::json& msg, common::TimePoint now);
  void handleSubscribeAnswer(const nlohmann::json& msg, common::TimePoint now);
  void handleSubscribeRestart(const nlohmann::json& msg, common::TimePoint now);
  void handleRelay(const nlohmann::json& msg, common::TimePoint now);
  void handleFileUpload(const nlohmann::json& msg, common::TimePoint now);
  void handleTurnRefresh(const nlohmann::json& msg, common::TimePoint now);
  void handleSetRole(const nlohmann::json& msg, common::TimePoint now);
  void handleSetSettings(const nlohmann::json& msg, common::TimePoint now);
  void handleAdmit(const nlohmann::json& msg, common::TimePoint now);
  void handleDeny(const nlohmann::json& msg, common::TimePoint now);
  // Asks the room to let this client in; with `pinChecked` after the PIN matched.
  void tryJoin(const nlohmann::json& msg, Role role, bool pinChecked, common::TimePoint now);
  // Checks `pin` off the I/O thread, then carries the join on.
  void checkPin(const nlohmann::json& msg, Role role, const std::string& pinHash);
  // Answers a refused request with the reason's error.
  void refuse(ErrorCode code, const nlohmann::json& msg);
  void handleMute(const nlohmann::json& msg, common::TimePoint now);
  void handleRequestUnmute(const nlohmann::json& msg, common::TimePoint now);
  void handleUnmute(const nlohmann::json& msg, common::TimePoint now);
  void handleRemove(const nlohmann::json& msg, common::TimePoint now);
  void handleEndMeeting(const nlohmann::json& msg, common::TimePoint now);
  void handleMoveMeeting(const nlohmann::json& msg, common::TimePoint now);
  void handleGetSecurityLog(const nlohmann::json& msg, common::TimePoint now);
  void handleVideoPreferences(const nlohmann::json& msg, common::TimePoint now);
  void handlePrivacyReceipt(const nlohmann::json& msg, common::TimePoint now);
  // Replies to a host control: `ok` when it succeeded, else the error's message.
  void replyControl(const nlohmann::json& msg, std::optional<ErrorCode> error, const nlohmann::json& ok);
  bool requireJoined(const nlohmann::json& msg);
  // Leaves the room or its lobby; the connection may join again.
  void leaveRoom(common::TimePoint now);
  // The room's media, or null after an error reply (not joined, no media plane).
  conference::MediaRoom* mediaFor(const nlohmann::json& msg);

  void sendError(ErrorCode code, std::string_view message, const nlohmann::json* request);

  RoomManager& mRooms;
  Peer& mPeer;
  ConnectionLimits mLimits;
  common::TokenBucket mBucket;
  common::DebtBucket mRelayBudget;
  common::TokenBucket mVideoPreferencesBucket;
  common::TokenBucket mReceiptBucket;
  size_t mDropped = 0;
  bool mMustClose = false;
  bool mHelloDone = false;
  std::string mRoomId;
  std::string mParticipantId;
  net::SourceKey mSource;
  // A join waits for its PIN check (or a set-settings for its PIN hash): no second one meanwhile.
  bool mPending = false;
  bool mClosed = false;
  // When the last message came: the time work that finishes later (off the I/O thread) uses.
  common::TimePoint mLastNow{};
  // Checked by work that finishes later (a PIN hash): expired once this connection is gone.
  std::shared_ptr<bool> mAlive = std::make_shared<bool>(true);
};

}  // namespace conclave::signaling
