#include "app/account_rights.h"

#include "accounts/totp.h"
#include "common/version.h"
#include "common/wall_clock.h"
#include "store/event_log_table.h"
#include "store/meeting_table.h"

namespace conclave::app {
namespace {

// Bounds of what an export reads from the security log per room (the table keeps 1,000 per room).
constexpr size_t kMaxLogRowsPerRoom = 1000;

// An ISO time, or null for a time never set.
nlohmann::json isoTime(int64_t ms) { return ms > 0 ? nlohmann::json(common::isoUtc(ms)) : nlohmann::json(nullptr); }

nlohmann::json settingsJson(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return json.is_discarded() ? nlohmann::json(text) : json;
}

nlohmann::json withheld() {
  auto entry = [](const char* field, const char* why) { return nlohmann::json{{"field", field}, {"why", why}}; };
  return nlohmann::json::array({
      entry("users.password_hash",
            "the Argon2id hash of the password: a leaked export would let anyone guess the password offline"),
      entry("users.totp_secret", "the 2-step login secret: whoever holds it can make login codes"),
      entry("users.totp_pending", "a 2-step login secret being set up: whoever holds it can make login codes"),
      entry("recovery_codes.code_hash", "hashes of the recovery codes (their number is given)"),
      entry("sessions.token_hash", "hashes of login session tokens (each session's times are given)"),
      entry("meetings.pin_hash", "hashes of meeting PINs (whether a meeting has a PIN is given)"),
  });
}

}  // namespace

std::optional<nlohmann::json> exportAccount(const store::Database& db, const std::string& username, int64_t nowMs) {
  store::AccountStore accountStore(db);
  auto user = accountStore.findUser(username);
  if (!user) return std::nullopt;
  nlohmann::json out;
  out["format"] = "conclave-account-export/1";
  out["exportedAt"] = isoTime(nowMs);
  out["server"] = std::string("conclave ") + kVersion;
  out["account"] = {
      {"id", user->id},
      {"username", user->username},
      {"created", isoTime(user->created)},
      {"twoStepLogin", user->totpSecret.empty() ? (user->totpPending.empty() ? "off" : "being set up") : "on"},
      {"lastTwoStepCodeTime", isoTime(user->totpLastStep * accounts::kTotpStepSeconds * 1000)},
      {"recoveryCodesLeft", accountStore.recoveryCodesLeft(user->id)},
  };
  out["withheld"] = withheld();
  auto& sessions = out["sessions"] = nlohmann::json::array();
  for (const auto& s : accountStore.sessionsOf(user->id))
    sessions.push_back({{"created", isoTime(s.created)}, {"lastUsed", isoTime(s.lastSeen)}});

  store::MeetingTable meetings(db, 0);
  store::EventLogTable log(db, {});
  auto& owned = out["roomsOwned"] = nlohmann::json::array();
  auto& moderated = out["roomsModerated"] = nlohmann::json::array();
  for (const auto& room : accountStore.roomsOf(user->id)) {
    if (room.ownerId != user->id) {
      // Another account's room: its ID and name, not its owner's data.
      moderated.push_back({{"roomId", room.roomId}, {"name", room.name}});
      continue;
    }
    nlohmann::json entry = {{"roomId", room.roomId},
                            {"name", room.name},
                            {"settings", settingsJson(room.settings)},
                            {"created", isoTime(room.created)},
                            {"moderators", room.moderators}};
    if (auto meeting = meetings.get(room.roomId))
      entry["meeting"] = {{"settings", settingsJson(meeting->settings)},
                          {"hasPin", !meeting->pinHash.empty()},
                          {"ended", meeting->ended},
                          {"moved", meeting->moved}};
    // The security event log of the room's meetings: pseudonymous participant IDs, never an
    // account name or an address.
    auto& events = entry["securityLog"] = nlohmann::json::array();
    for (const auto& row : log.list(room.roomId, std::nullopt, kMaxLogRowsPerRoom))
      events.push_back({{"at", isoTime(row.at)},
                        {"type", row.type},
                        {"actor", row.actor},
                        {"subject", row.subject},
                        {"detail", row.detail}});
    owned.push_back(std::move(entry));
  }
  out["notes"] = nlohmann::json::array({
      "The security event log names participants by pseudonymous IDs only, never by account, so no entry refers "
      "to this account except through the rooms it owns (listed with each room).",
      "Meetings themselves (who joined, media, chat, shared files) are end-to-end encrypted and not kept in the "
      "database; shared files are tied to a meeting, not to an account, and deleted after file_retention.",
      "The server's logs do not name accountStore.",
  });
  return out;
}

std::optional<store::ErasedRows> eraseAccount(const store::Database& db, const std::string& username) {
  store::AccountStore accounts(db);
  auto user = accounts.findUser(username);
  if (!user) return std::nullopt;
  return accounts.eraseUser(user->id);
}

}  // namespace conclave::app
