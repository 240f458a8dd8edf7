#include "signaling/rooms.h"

#include <algorithm>

#include "common/log.h"
#include "common/random.h"
#include "conference/media_plane.h"
#include "store/file_store.h"

namespace conclave::signaling {
namespace {

std::vector<uint8_t> randomKey() {
  std::vector<uint8_t> key(32);
  common::randomBytes(key);
  return key;
}

}  // namespace

void Peer::subscribeOffer(const std::string& sdp, const std::vector<conference::OfferedTrack>& tracks) {
  send(messages::subscribeOffer(sdp, tracks));
}

void Peer::mediaFailed(sfu::TransportRole role) { send(messages::mediaFailed(role)); }

RoomManager::RoomManager(const RoomIdIssuer& issuer, Settings settings, conference::MediaPlane* media,
                         store::FileStore* files)
    : mIssuer(issuer), mSettings(settings), mMedia(media), mFiles(files), mHostTokens(randomKey()) {
  if (mMedia)
    mMedia->transportFailedHandler = [this](const std::string& pid, sfu::TransportRole role) {
      onTransportFailed(pid, role);
    };
}

RoomManager::~RoomManager() {
  while (!mRooms.empty()) closeRoom(mRooms.begin());
  if (mMedia) mMedia->transportFailedHandler = nullptr;
}

conference::MediaRoom* RoomManager::media(const std::string& roomId) {
  auto it = mRooms.find(roomId);
  return it == mRooms.end() ? nullptr : it->second.media.get();
}

void RoomManager::closeRoom(std::map<std::string, Room>::iterator it) {
  if (it->second.media && mMedia) mMedia->roomClosed(it->second.media->worker().index());
  // The meeting has ended: its files go with it.
  if (mFiles) mFiles->deleteRoom(it->first);
  mRooms.erase(it);
}

void RoomManager::onTransportFailed(const std::string& participantId, sfu::TransportRole role) {
  for (auto& [id, room] : mRooms) {
    for (const auto& m : room.members) {
      if (m.info.id == participantId && room.media) {
        room.media->onTransportFailed(participantId, role);
        return;
      }
    }
  }
}

common::Result<RoomManager::Joined, ErrorCode> RoomManager::join(const std::string& roomId, Peer& peer,
                                                                 std::string profile, Role role,
                                                                 const net::SourceKey& source) {
  if (auto closed = closedMeeting(roomId)) return *closed;
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) {
    if (!mIssuer.verify(roomId)) return ErrorCode::RoomNotFound;
    it = mRooms.emplace(roomId, Room{}).first;
    it->second.settings.maxParticipants =
        static_cast<int>(std::min<size_t>(mSettings.maxParticipants, kMaxMeetingParticipants));
    if (mMedia) it->second.media = mMedia->createRoom(roomId);
    common::logger("room")->info("room {} opened", common::logId(roomId));
  }
  Room& room = it->second;
  const BanKey sourceKey = mSourceHasher.hash(source);
  if (room.bans.contains(sourceKey)) return ErrorCode::Banned;
  if (room.members.size() >= std::min<size_t>(mSettings.maxParticipants, room.settings.maxParticipants))
    return ErrorCode::RoomFull;

  Joined joined;
  joined.participantId = common::randomToken(16);
  joined.info = {role, room.settings, false};
  for (const auto& m : room.members) joined.others.push_back(m.info);
  common::logger("tap")->trace("profile {} bytes: {}", profile.size(), std::string_view(profile).substr(0, 64));
  ParticipantInfo info{joined.participantId, std::move(profile), role};
  broadcast(room, "", messages::participantJoined(info));
  room.members.push_back(Member{std::move(info), &peer, {}, {}, sourceKey});
  room.emptySince.reset();
  if (room.media) room.media->addParticipant(joined.participantId, peer);
  logEvent(roomId, SecurityEventType::Joined, {}, joined.participantId);
  common::logger("room")->info("room {}: participant joined, {} present", common::logId(roomId), room.members.size());
  return joined;
}

std::optional<Role> RoomManager::roleOf(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return std::nullopt;
  for (const auto& m : it->second.members)
    if (m.info.id == participantId) return m.info.role;
  return std::nullopt;
}

std::optional<ErrorCode> RoomManager::setRole(const std::string& roomId, const std::string& by,
                                              const std::string& target, Role role) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  Room& room = it->second;
  auto byRole = roleOf(roomId, by);
  if (!byRole) return ErrorCode::NotJoined;
  if (*byRole != Role::Host) return ErrorCode::NotAllowed;
  auto m = std::find_if(room.members.begin(), room.members.end(), [&](const Member& x) { return x.info.id == target; });
  if (m == room.members.end()) return ErrorCode::ParticipantNotFound;
  m->info.role = role;
  broadcast(room, "", messages::role(target, role));
  common::logger("room")->info("room {}: a role changed to {}", common::logId(roomId), roleName(role));
  return std::nullopt;
}

void RoomManager::updateProfile(const std::string& roomId, const std::string& participantId, std::string profile) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  for (auto& m : it->second.members) {
    if (m.info.id != participantId) continue;
    m.info.profile = std::move(profile);
    broadcast(it->second, participantId, messages::participantUpdated(m.info));
    return;
  }
}

void RoomManager::leave(const std::string& roomId, const std::string& participantId, common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  Room& room = it->second;
  auto before = room.members.size();
  std::erase_if(room.members, [&](const Member& m) { return m.info.id == participantId; });
  if (room.members.size() == before) return;
  if (room.media) room.media->removeParticipant(participantId);
  broadcast(room, participantId, messages::participantLeft(participantId));
  logEvent(roomId, SecurityEventType::Left, {}, participantId);
  if (room.members.empty()) room.emptySince = now;
  common::logger("room")->info("room {}: participant left, {} present", common::logId(roomId), room.members.size());
}

std::optional<size_t> RoomManager::relay(const std::string& roomId, const std::string& from, const std::string& to,
                                         const std::string& payload, common::TimePoint now, std::string_view kind) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return std::nullopt;
  Room& room = it->second;
  if (std::none_of(room.members.begin(), room.members.end(), [&](const Member& m) { return m.info.id == from; }))
    return std::nullopt;
  // At trace level the head of what is relayed is logged: tests check that it is ciphertext.
  common::logger("tap")->trace("relay {} bytes: {}", payload.size(), std::string_view(payload).substr(0, 64));
  nlohmann::json message = messages::relay(from, payload, kind);
  size_t sent = 0;
  if (to.empty()) {
    sent = broadcast(room, from, message);
  } else {
    auto m = std::find_if(room.members.begin(), room.members.end(),
                          [&](const Member& x) { return x.info.id == to && to != from; });
    if (m == room.members.end()) return std::nullopt;
    auto text =
        std::make_shared<const std::string>(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    m->peer->sendText(text);
    sent = text->size();
  }
  if (!room.relayBudget) room.relayBudget.emplace(mSettings.relayBytesPerSecond, mSettings.relayBurstBytes, now);
  room.relayBudget->charge(static_cast<double>(sent), now);
  return sent;
}

common::Duration RoomManager::relayWait(const std::string& roomId, common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end() || !it->second.relayBudget) return common::Duration::zero();
  return it->second.relayBudget->wait(now);
}

bool RoomManager::congested(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return false;
  for (const auto& m : it->second.members)
    if (m.info.id != participantId && m.peer->queuedBytes() > mSettings.congestedQueueBytes) return true;
  return false;
}

void RoomManager::tick(common::TimePoint now) {
  if (mFiles) mFiles->tick(now);
  tickControls(now);
  for (auto it = mRooms.begin(); it != mRooms.end();) {
    const Room& room = it->second;
    if (room.members.empty() && room.emptySince && now - *room.emptySince >= mSettings.grace) {
      common::logger("room")->info("room {} closed", common::logId(it->first));
      auto next = std::next(it);
      closeRoom(it);
      it = next;
    } else {
      ++it;
    }
  }
}

size_t RoomManager::participantCount(const std::string& roomId) const {
  auto it = mRooms.find(roomId);
  return it == mRooms.end() ? 0 : it->second.members.size();
}

size_t RoomManager::broadcast(const Room& room, const std::string& except, const nlohmann::json& message) {
  auto text =
      std::make_shared<const std::string>(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  size_t sent = 0;
  for (const auto& m : room.members) {
    if (m.info.id == except) continue;
    m.peer->sendText(text);
    sent += text->size();
  }
  return sent;
}

}  // namespace conclave::signaling
