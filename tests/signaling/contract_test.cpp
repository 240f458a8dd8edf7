// The server's schemas against the shared protocol fixtures (tests/contract/protocol/README.md);
// web/tests/protocol-contract.test.ts checks the web client's validator against the same files.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "signaling/protocol.h"

using namespace conclave::signaling;
using nlohmann::json;

namespace {

// Replaces every {"$repeat": text, "times": n} with text repeated n times.
json expand(const json& value) {
  if (value.is_object() && value.size() == 2 && value.contains("$repeat") && value.contains("times")) {
    std::string out;
    for (int64_t i = 0; i < value["times"].get<int64_t>(); ++i) out += value["$repeat"].get<std::string>();
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : value.items()) out[key] = expand(item);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(expand(item));
    return out;
  }
  return value;
}

struct Case {
  std::string name;
  json message;
};

std::vector<Case> load(const std::string& file) {
  std::ifstream in(std::string(CONCLAVE_SOURCE_DIR) + "/tests/contract/protocol/" + file);
  EXPECT_TRUE(in) << file;
  std::stringstream text;
  text << in.rdbuf();
  std::vector<Case> cases;
  for (const auto& c : json::parse(text.str())) cases.push_back({c.at("name"), expand(c.at("message"))});
  EXPECT_FALSE(cases.empty()) << file;
  return cases;
}

std::set<std::string> typesOf(const std::vector<Case>& cases) {
  std::set<std::string> types;
  for (const auto& c : cases) types.insert(c.message.at("type").get<std::string>());
  return types;
}

}  // namespace

TEST(Contract, TheServerAcceptsEveryClientMessageOfTheAcceptSet) {
  for (const auto& c : load("client-to-server/accept.json"))
    EXPECT_EQ(validateClientMessage(c.message), std::nullopt) << c.name;
}

TEST(Contract, TheServerRejectsEveryClientMessageOfTheRejectSet) {
  for (const auto& c : load("client-to-server/reject.json"))
    EXPECT_NE(validateClientMessage(c.message), std::nullopt) << c.name;
}

TEST(Contract, TheServerSchemasAcceptEveryServerMessageOfTheAcceptSet) {
  for (const auto& c : load("server-to-client/accept.json"))
    EXPECT_EQ(validateServerMessage(c.message), std::nullopt) << c.name;
}

TEST(Contract, TheServerSchemasRejectEveryServerMessageOfTheRejectSet) {
  for (const auto& c : load("server-to-client/reject.json"))
    EXPECT_NE(validateServerMessage(c.message), std::nullopt) << c.name;
}

TEST(Contract, TheAcceptSetsHoldEveryMessageType) {
  const std::set<std::string> client = {"hello", "join", "update-profile", "leave", "ping", "publish",
                                        "subscribe-answer", "subscribe-restart", "relay", "file-upload", "turn-refresh",
                                        "set-settings", "admit", "deny", "set-role",
                                        // issue 10, host controls
                                        "mute", "request-unmute", "unmute", "remove", "end-meeting", "move-meeting",
                                        "get-security-log", "video-preferences", "privacy-receipt"};
  const std::set<std::string> server = {"welcome", "joined", "participant-joined", "participant-updated",
                                        "participant-left", "profile-updated", "left", "pong", "goodbye", "error",
                                        "publish-answer", "subscribe-ok", "subscribe-offer", "media-failed", "relayed",
                                        "relay", "file-upload-ready", "turn-credentials", "waiting", "lobby",
                                        "settings", "role", "settings-updated", "admitted", "denied", "role-set",
                                        // issue 10, host controls
                                        "muted", "unmute-requested", "unmuted", "removed", "ended", "meeting-moved",
                                        "security-log", "muted-by-host", "unmute-request", "privacy-receipt"};
  EXPECT_EQ(typesOf(load("client-to-server/accept.json")), client);
  EXPECT_EQ(typesOf(load("server-to-client/accept.json")), server);
  for (const auto& type : client) EXPECT_NE(findClientSchema(type), nullptr) << type;
  for (const auto& type : server) EXPECT_NE(findServerSchema(type), nullptr) << type;
}

TEST(Contract, TheErrorCodesAreTheOnesTheFixturesList) {
  std::ifstream in(std::string(CONCLAVE_SOURCE_DIR) + "/tests/contract/protocol/error-codes.json");
  std::stringstream text;
  text << in.rdbuf();
  std::set<std::string> listed = json::parse(text.str());
  std::set<std::string> named;
  for (int code = 0; code <= static_cast<int>(ErrorCode::Internal); ++code)
    named.insert(std::string(errorCodeName(static_cast<ErrorCode>(code))));
  EXPECT_EQ(named, listed);
}
