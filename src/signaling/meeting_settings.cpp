#include "signaling/meeting_settings.h"

#include <algorithm>

namespace conclave::signaling {
namespace {

std::string_view allowedName(Allowed who) { return who == Allowed::Everyone ? "everyone" : "moderators"; }

std::optional<Allowed> policyField(const nlohmann::json& policies, const char* name) {
  auto it = policies.find(name);
  if (it == policies.end()) return std::nullopt;
  return *it == "moderators" ? Allowed::Moderators : Allowed::Everyone;
}

}  // namespace

std::string_view roleName(Role role) {
  switch (role) {
    case Role::Host:
      return "host";
    case Role::Moderator:
      return "moderator";
    case Role::Participant:
      return "participant";
  }
  return "participant";
}

std::optional<Role> parseRole(std::string_view name) {
  if (name == "host") return Role::Host;
  if (name == "moderator") return Role::Moderator;
  if (name == "participant") return Role::Participant;
  return std::nullopt;
}

bool isValidPin(std::string_view pin) {
  return pin.size() >= kMinPinLength && pin.size() <= kMaxPinLength &&
         std::all_of(pin.begin(), pin.end(), [](char c) { return c >= '0' && c <= '9'; });
}

nlohmann::json settingsJson(const MeetingSettings& s, bool pinSet) {
  return {{"locked", s.locked},
          {"lobby", s.lobby},
          {"hostMustBePresent", s.hostMustBePresent},
          {"pinSet", pinSet},
          {"maxParticipants", s.maxParticipants},
          {"policies",
           {{"unmute", allowedName(s.policies.unmute)},
            {"camera", allowedName(s.policies.camera)},
            {"screen", allowedName(s.policies.screen)},
            {"chat", allowedName(s.policies.chat)},
            {"files", allowedName(s.policies.files)}}}};
}

SettingsChange SettingsChange::fromJson(const nlohmann::json& m) {
  SettingsChange c;
  if (m.contains("locked")) c.locked = m["locked"].get<bool>();
  if (m.contains("lobby")) c.lobby = m["lobby"].get<bool>();
  if (m.contains("hostMustBePresent")) c.hostMustBePresent = m["hostMustBePresent"].get<bool>();
  if (m.contains("maxParticipants")) c.maxParticipants = m["maxParticipants"].get<int>();
  if (m.contains("policies")) {
    const auto& p = m["policies"];
    c.unmute = policyField(p, "unmute");
    c.camera = policyField(p, "camera");
    c.screen = policyField(p, "screen");
    c.chat = policyField(p, "chat");
    c.files = policyField(p, "files");
  }
  if (m.contains("pin")) c.pin = m["pin"].is_null() ? std::string() : m["pin"].get<std::string>();
  return c;
}

void SettingsChange::applyTo(MeetingSettings& s, int serverMax) const {
  if (locked) s.locked = *locked;
  if (lobby) s.lobby = *lobby;
  if (hostMustBePresent) s.hostMustBePresent = *hostMustBePresent;
  if (maxParticipants) s.maxParticipants = std::clamp(*maxParticipants, 1, std::max(1, serverMax));
  if (unmute) s.policies.unmute = *unmute;
  if (camera) s.policies.camera = *camera;
  if (screen) s.policies.screen = *screen;
  if (chat) s.policies.chat = *chat;
  if (files) s.policies.files = *files;
}

}  // namespace conclave::signaling
