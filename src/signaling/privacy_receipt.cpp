// The privacy receipt: signing and verification, and RoomManager's part that reads its live state.
#include "signaling/privacy_receipt.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>

#include "common/version.h"
#include "signaling/rooms.h"
#include "store/file_store.h"

namespace conclave::signaling {
namespace {

std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string sha256Hex(std::string_view text) {
  std::array<uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return common::toHex(digest);
}

ReceiptCheck invalid(std::string message, std::string fingerprint = {}) {
  return {false, std::move(message), std::move(fingerprint)};
}

// The string field `name` of `object`, or nullptr.
const std::string* stringField(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

}  // namespace

std::string canonicalReceipt(const nlohmann::json& receipt) {
  return receipt.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

nlohmann::json signReceipt(const nlohmann::json& receipt, const common::Ed25519PrivateKey& key) {
  auto signature = key.sign(bytesOf(canonicalReceipt(receipt)));
  return {{"receipt", receipt},
          {"signature",
           {{"algorithm", "Ed25519"},
            {"publicKey", common::toHex(key.publicKey().raw())},
            {"fingerprint", key.publicKey().fingerprint()},
            {"value", common::toHex(signature)}}}};
}

ReceiptCheck verifyReceipt(std::string_view text, const common::Ed25519PublicKey* expected,
                           std::string_view expectedFingerprint) {
  auto envelope = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded() || !envelope.is_object()) return invalid("the file is not a JSON object");
  for (const auto& [key, value] : envelope.items())
    if (key != "receipt" && key != "signature") return invalid("the file has a field that is not signed: " + key);
  if (!envelope.contains("receipt") || !envelope["receipt"].is_object()) return invalid("the file holds no receipt");
  const auto& receipt = envelope["receipt"];
  if (!receipt.contains("format") || receipt["format"] != kReceiptFormat)
    return invalid("the receipt is not a " + std::string(kReceiptFormat));
  if (!envelope.contains("signature") || !envelope["signature"].is_object())
    return invalid("the receipt is not signed");
  const auto& signature = envelope["signature"];
  for (const auto& [key, value] : signature.items())
    if (key != "algorithm" && key != "publicKey" && key != "fingerprint" && key != "value")
      return invalid("the signature has an unknown field: " + key);
  const std::string* algorithm = stringField(signature, "algorithm");
  const std::string* publicKeyHex = stringField(signature, "publicKey");
  const std::string* fingerprint = stringField(signature, "fingerprint");
  const std::string* valueHex = stringField(signature, "value");
  if (!algorithm || *algorithm != "Ed25519") return invalid("the signature's algorithm is not Ed25519");
  if (!publicKeyHex || !fingerprint || !valueHex) return invalid("the signature lacks publicKey, fingerprint or value");
  auto rawKey = common::fromHex(*publicKeyHex);
  auto key = rawKey ? common::Ed25519PublicKey::fromRaw(bytesOf(*rawKey)) : std::nullopt;
  if (!key) return invalid("the signature's publicKey is not an Ed25519 key in lowercase hex");
  if (key->fingerprint() != *fingerprint) return invalid("the signature's fingerprint is not its key's");
  auto value = common::fromHex(*valueHex);
  if (!value || !key->verify(bytesOf(canonicalReceipt(receipt)), bytesOf(*value)))
    return invalid(
        "the signature does not match the receipt: it was changed after signing, or not signed by " + *fingerprint,
        *fingerprint);
  if (expected && expected->raw() != key->raw())
    return invalid(
        "the receipt was signed by key " + *fingerprint + ", not by the key given (" + expected->fingerprint() + ")",
        *fingerprint);
  if (!expectedFingerprint.empty() && expectedFingerprint != *fingerprint)
    return invalid("the receipt was signed by key " + *fingerprint + ", not by " + std::string(expectedFingerprint),
                   *fingerprint);
  std::string message = "valid: signed by the key with SHA-256 fingerprint " + *fingerprint;
  if (!expected && expectedFingerprint.empty())
    message += " (the key the file names; compare the fingerprint with the one the server's operator publishes)";
  return {true, std::move(message), *fingerprint};
}

// ---- RoomManager -----------------------------------------------------------------------------

void RoomManager::countLogLine(const std::string& roomId, std::string_view subsystem, spdlog::level::level_enum level) {
  if (!common::logger(subsystem)->should_log(level)) return;
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  std::string key =
      std::string(subsystem) + "/" +
      std::string(spdlog::level::to_string_view(level).data(), spdlog::level::to_string_view(level).size());
  ++it->second.logLines[key];
}

common::Result<nlohmann::json, ErrorCode> RoomManager::privacyReceipt(const std::string& roomId, const std::string& by,
                                                                      common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end() || !findMember(it->second, by)) return ErrorCode::NotJoined;
  auto content = receiptContent(roomId, now);
  content["meeting"]["requestedBy"] = by;
  return signReceipt(content, receiptKey());
}

nlohmann::json RoomManager::receiptContent(const std::string& roomId, common::TimePoint now) {
  const Room& room = mRooms.at(roomId);
  const int64_t wall = mWallClock();
  auto toWall = [&](common::TimePoint t) { return wall + common::toMillis(t - now); };
  const ReceiptFacts& facts = mReceiptFacts;
  nlohmann::json r;
  r["format"] = kReceiptFormat;
  r["generatedAt"] = wall;
  r["server"] = {{"software", "conclave"}, {"version", kVersion}};
  r["meeting"] = {{"roomIdSha256", sha256Hex(roomId)}, {"openedAt", room.openedAt}};

  // Participants: pseudonymous IDs, roles, join times. Profiles (names) are ciphertext to us.
  auto present = nlohmann::json::array();
  auto transports = nlohmann::json::array();
  for (const auto& m : room.members) {
    present.push_back({{"id", m.info.id}, {"role", roleName(m.info.role)}, {"joinedAt", m.joinedAt}});
    if (!m.publishSrtp.empty())
      transports.push_back({{"participantId", m.info.id}, {"direction", "publish"}, {"srtpProfile", m.publishSrtp}});
    if (!m.subscribeSrtp.empty())
      transports.push_back(
          {{"participantId", m.info.id}, {"direction", "subscribe"}, {"srtpProfile", m.subscribeSrtp}});
  }
  r["participants"] = {
      {"count", room.members.size()},
      {"present", std::move(present)},
      {"waitingInLobby", room.waiting.size()},
      {"heldAboutEach",
       "a random ID for this join, the role, the join time, and the profile (display name) as end-to-end "
       "encrypted bytes the server cannot read"},
      {"namesInClear", false},
  };

  r["addresses"] = {
      {"storage", "memory only, never written to disk"},
      {"logged", facts.logIps},
      {"whileConnected",
       "the IP address and port of each connection (HTTPS, WebSocket, media), to send data back; the "
       "connection's network (IPv4 address or IPv6 /64) with each member, for a host's removal ban"},
      {"afterLeaving",
       "dropped: the WebSocket's address when it closes, the member's network when it leaves, the media "
       "addresses when its transports are removed at the leave"},
      {"mediaConsentTimeoutSeconds", facts.mediaConsentTimeoutSeconds},
      {"mediaSilentAddress",
       "a media address that stops answering ICE consent checks is no longer used after the timeout; it is dropped "
       "with the transport"},
      {"fileUploaders",
       "the network that uploaded a file is kept in memory with the file (its quota) until the "
       "file is deleted"},
      {"rateLimitsAndBans",
       "failed joins are counted per salted hash of the network (salt replaced every 24 hours); bans of "
       "removed participants end with the meeting"},
  };

  // Files: ciphertext only; sizes and when they go.
  nlohmann::json files = {{"encryptedEndToEnd", true}, {"serverHasKey", false}, {"deletedWhenMeetingEnds", true}};
  if (mFiles) {
    auto stored = mFiles->files(roomId, kMaxReceiptFiles);
    size_t count = mFiles->fileCount(roomId);
    auto listed = nlohmann::json::array();
    for (const auto& f : stored) {
      nlohmann::json entry = {{"size", f.size}, {"storedAt", toWall(f.created)}};
      entry["deleteAt"] = f.deleteAt ? nlohmann::json(toWall(*f.deleteAt)) : nlohmann::json(nullptr);
      listed.push_back(std::move(entry));
    }
    files["count"] = count;
    files["stored"] = std::move(listed);
    files["notListed"] = count - stored.size();
    files["retentionSeconds"] = std::chrono::duration_cast<std::chrono::seconds>(mFiles->retention()).count();
    files["totalBytes"] = mFiles->storedBytes(roomId);
  } else {
    files["count"] = 0;
    files["stored"] = nlohmann::json::array();
    files["notListed"] = 0;
    files["sharingEnabled"] = false;
    files["totalBytes"] = 0;
  }
  r["files"] = std::move(files);

  // The security event log: what it holds for this meeting and until when.
  auto entries = mLog->list(roomId, std::nullopt, kMaxReceiptLogEntries);
  nlohmann::json byType = nlohmann::json::object();
  for (const auto& e : entries) {
    auto& n = byType[std::string(securityEventName(e.type))];
    n = n.is_null() ? 1 : n.get<int64_t>() + 1;
  }
  const int64_t retentionMs = common::toMillis(mSettings.securityLogRetention);
  nlohmann::json log = {
      {"entries", entries.size()},
      {"byType", std::move(byType)},
      {"holds", "event types, times and participant IDs; no names, no addresses"},
      {"storage", facts.securityLogStored ? "database" : "memory"},
      {"retentionDays", retentionMs / (int64_t{24} * 3600 * 1000)},
      {"purgeIntervalSeconds", 3600},
      {"readableBy", "the meeting's hosts and moderators"},
  };
  if (!entries.empty()) {
    log["oldestAt"] = entries.back().at;
    log["newestAt"] = entries.front().at;
    log["oldestDeletedAfter"] = entries.back().at + retentionMs;
    log["newestDeletedAfter"] = entries.front().at + retentionMs;
  }
  r["securityLog"] = std::move(log);

  r["serverLog"] = {
      {"level", facts.logLevel},
      {"addressesLogged", facts.logIps},
      {"linesAboutMeeting", room.logLines.empty() ? nlohmann::json::object() : nlohmann::json(room.logLines)},
      {"meetingNamedBy", "a short keyed hash of the room ID"},
      {"content", "events and counts only: no names, chat, file contents or media"},
  };

  r["encryption"] = {
      {"endToEnd", true},
      {"serverHoldsKeys", false},
      {"media", "SFrame (RFC 9605) frames inside SRTP; the server forwards them without a key"},
      {"chatNamesFiles", "end-to-end encrypted by the browsers before the server sees them"},
      {"cipherSuite", "chosen by the clients; not announced to the server"},
      {"unencrypted", nlohmann::json::array()},
      {"transport", "TLS 1.2 or later for pages, signaling and files; DTLS-SRTP for media"},
  };
  r["media"] = {{"transports", std::move(transports)}};
  r["retention"] = {
      {"roomGraceSeconds", std::chrono::duration_cast<std::chrono::seconds>(mSettings.grace).count()},
      {"fileRetentionSeconds",
       mFiles ? std::chrono::duration_cast<std::chrono::seconds>(mFiles->retention()).count() : 0},
      {"securityLogRetentionDays", retentionMs / (int64_t{24} * 3600 * 1000)},
      {"meetingSettingsRetentionDays", facts.meetingRetentionDays},
  };
  return r;
}

}  // namespace conclave::signaling
