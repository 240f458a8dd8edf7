// What a meeting's hosts decide (docs/protocol.md, "Meeting settings"), the roles of its
// participants, and their JSON forms. The server enforces every setting; clients only show them.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace conclave::signaling {

// Ordered by rights: a higher role may do everything a lower one may.
enum class Role { Participant, Moderator, Host };

std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);
inline bool isModeratorOrHost(Role role) { return role != Role::Participant; }

// Who may do something a policy governs: everyone, or hosts and moderators only.
enum class Allowed { Everyone, Moderators };

struct Policies {
  Allowed unmute = Allowed::Everyone;
  Allowed camera = Allowed::Everyone;
  Allowed screen = Allowed::Everyone;
  Allowed chat = Allowed::Everyone;
  Allowed files = Allowed::Everyone;
  bool operator==(const Policies&) const = default;
};

inline constexpr int kMaxMeetingParticipants = 1000;
// A PIN: 6 to 12 ASCII digits.
inline constexpr size_t kMinPinLength = 6;
inline constexpr size_t kMaxPinLength = 12;
bool isValidPin(std::string_view pin);

struct MeetingSettings {
  bool locked = false;
  bool lobby = false;
  bool hostMustBePresent = false;
  // 1..kMaxMeetingParticipants; never more than the server's own limit.
  int maxParticipants = 100;
  Policies policies;
  bool operator==(const MeetingSettings&) const = default;
};

// True if `role` may do what `who` governs.
inline bool mayUnder(Allowed who, Role role) { return who == Allowed::Everyone || isModeratorOrHost(role); }

// The `settings` object of `joined` and `settings` (pinSet instead of the PIN).
nlohmann::json settingsJson(const MeetingSettings& settings, bool pinSet);

// A change of settings, as `set-settings` and the body of POST /api/rooms give it (already checked
// against the schema, see kSettingsFields in protocol.cpp): absent fields are left as they are.
struct SettingsChange {
  std::optional<bool> locked;
  std::optional<bool> lobby;
  std::optional<bool> hostMustBePresent;
  std::optional<int> maxParticipants;
  std::optional<Allowed> unmute, camera, screen, chat, files;
  // Absent: PIN unchanged; null in JSON (an empty string here): cleared; else the new PIN.
  std::optional<std::string> pin;

  // Reads the fields of a validated message.
  static SettingsChange fromJson(const nlohmann::json& message);
  // Applies everything but the PIN; `serverMax` caps maxParticipants.
  void applyTo(MeetingSettings& settings, int serverMax) const;
  bool touchesPolicies() const { return unmute || camera || screen || chat || files; }
  // Fields only a host may change (a moderator may toggle `locked` and `lobby`).
  bool needsHost() const { return hostMustBePresent || maxParticipants || touchesPolicies() || pin; }
};

}  // namespace conclave::signaling
