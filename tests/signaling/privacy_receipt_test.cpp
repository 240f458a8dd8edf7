// The privacy receipt (issue 12 item 3): its signature (round trip, any changed byte, another
// key), and that what it states is the server's state after joins, leaves, a lobby knock, file
// uploads, retention and purges, with injected clocks. Driven through Connection as a client.
#include "signaling/privacy_receipt.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "signaling/connection.h"
#include "store/file_store.h"

using namespace conclave;
using namespace conclave::signaling;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct RecordingPeer : Peer {
  std::vector<json> received;
  void send(const json& message) override {
    EXPECT_EQ(validateServerMessage(message, UnknownFields::Refuse), std::nullopt) << message.dump().substr(0, 200);
    received.push_back(message);
  }
};

struct Client {
  RecordingPeer peer;
  std::unique_ptr<Connection> connection;
  std::string id;
  json request(json message, common::TimePoint now) {
    message["id"] = "r";
    peer.received.clear();
    connection->onText(message.dump(), now);
    for (const auto& m : peer.received)
      if (m.contains("id") && m["id"] == "r") return m;
    return json();
  }
};

std::vector<uint8_t> seed(uint8_t fill) { return std::vector<uint8_t>(32, fill); }

json sampleReceipt() {
  return {{"format", kReceiptFormat},
          {"generatedAt", 1764748800000},
          {"participants", {{"count", 2}, {"present", {{{"id", "abc"}, {"joinedAt", 1}}}}}},
          {"note", "Grüße"}};
}

class PrivacyReceiptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("conclave-receipt-" + std::to_string(::getpid()));
    store::FileStore::Settings settings;
    settings.directory = dir;
    settings.minFreeDiskBytes = 0;
    settings.retention = 600s;
    files = std::make_unique<store::FileStore>(settings);
    RoomManager::Settings roomSettings;
    roomSettings.securityLogRetention = 24h;
    rooms = std::make_unique<RoomManager>(issuer, roomSettings, nullptr, files.get());
    rooms->setWallClock([this] { return wallMs; });
  }
  void TearDown() override {
    clients.clear();
    rooms.reset();
    files.reset();
    fs::remove_all(dir);
  }
  Client& join(const std::string& room, bool host = false, uint8_t source = 1) {
    auto& c = clients.emplace_back(std::make_unique<Client>());
    net::SourceKey key{};
    key[15] = source;
    c->connection = std::make_unique<Connection>(*rooms, c->peer, ConnectionLimits{}, now, key);
    c->request({{"type", "hello"}, {"version", 1}}, now);
    json message = {{"type", "join"}, {"roomId", room}, {"profile", "sealed"}};
    if (host) message["hostToken"] = rooms->hostTokens().hostToken(room);
    json reply = c->request(message, now);
    c->id = reply.value("participantId", "");
    return *c;
  }
  // Asks for the receipt; checks its signature with the server's key and gives its content.
  json receipt(Client& c) {
    json reply = c.request({{"type", "privacy-receipt"}}, now);
    EXPECT_EQ(reply["type"], "privacy-receipt") << reply;
    if (reply["type"] != "privacy-receipt") return json();
    json file = {{"receipt", reply["receipt"]}, {"signature", reply["signature"]}};
    auto check = verifyReceipt(file.dump(), &rooms->receiptKey().publicKey());
    EXPECT_TRUE(check.valid) << check.message;
    return reply["receipt"];
  }
  // Reserves and uploads a file of `size` bytes for `c`'s room.
  void upload(Client& c, uint64_t size) {
    json ready = c.request({{"type", "file-upload"}, {"size", size}}, now);
    ASSERT_EQ(ready["type"], "file-upload-ready") << ready;
    auto path = files->beginUpload(ready["fileId"].get<std::string>(), ready["uploadToken"].get<std::string>(), size);
    ASSERT_TRUE(path.ok());
    { std::ofstream(path.value()) << std::string(size, 'x'); }
    ASSERT_TRUE(files->completeUpload(ready["fileId"].get<std::string>(), size));
  }

  fs::path dir;
  RoomIdIssuer issuer{std::vector<uint8_t>(32, 7)};
  std::unique_ptr<store::FileStore> files;
  std::unique_ptr<RoomManager> rooms;
  std::vector<std::unique_ptr<Client>> clients;
  common::TimePoint now{};
  int64_t wallMs = 1764748800000;  // 2025-12-03
};

}  // namespace

TEST(ReceiptSignature, ASignedReceiptVerifiesWithTheSignersKeyAndFingerprint) {
  common::Ed25519PrivateKey key(seed(1));
  json file = signReceipt(sampleReceipt(), key);
  EXPECT_EQ(file["signature"]["algorithm"], "Ed25519");
  EXPECT_EQ(file["signature"]["fingerprint"], key.publicKey().fingerprint());
  EXPECT_TRUE(verifyReceipt(file.dump()).valid);
  EXPECT_TRUE(verifyReceipt(file.dump(2)).valid) << "whitespace is not part of the signed form";
  EXPECT_TRUE(verifyReceipt(file.dump(), &key.publicKey()).valid);
  auto check = verifyReceipt(file.dump(), nullptr, key.publicKey().fingerprint());
  EXPECT_TRUE(check.valid) << check.message;
  EXPECT_EQ(check.fingerprint, key.publicKey().fingerprint());
  // The PEM the operator publishes gives the same key.
  auto pem = common::Ed25519PublicKey::fromPem(key.publicKey().toPem());
  ASSERT_TRUE(pem.has_value());
  EXPECT_EQ(pem->raw(), key.publicKey().raw());
}

TEST(ReceiptSignature, AnyChangedByteOfTheFileFailsVerification) {
  common::Ed25519PrivateKey key(seed(2));
  const std::string text = signReceipt(sampleReceipt(), key).dump();
  ASSERT_TRUE(verifyReceipt(text).valid);
  for (size_t i = 0; i < text.size(); ++i) {
    for (uint8_t flip : {0x01, 0x20, 0x80}) {
      std::string changed = text;
      changed[i] = static_cast<char>(changed[i] ^ flip);
      EXPECT_FALSE(verifyReceipt(changed, &key.publicKey()).valid) << "byte " << i << " ^ " << int(flip);
    }
  }
  // Also a changed value written back as JSON, and a field added to the receipt or the envelope.
  json changed = json::parse(text);
  changed["receipt"]["participants"]["count"] = 1;
  EXPECT_FALSE(verifyReceipt(changed.dump()).valid);
  changed = json::parse(text);
  changed["receipt"]["extra"] = true;
  EXPECT_FALSE(verifyReceipt(changed.dump()).valid);
  changed = json::parse(text);
  changed["unsigned"] = "x";
  EXPECT_FALSE(verifyReceipt(changed.dump()).valid);
}

TEST(ReceiptSignature, AnotherKeyFailsVerification) {
  common::Ed25519PrivateKey server(seed(3)), other(seed(4));
  json file = signReceipt(sampleReceipt(), server);
  auto check = verifyReceipt(file.dump(), &other.publicKey());
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.message.find("not by the key given"), std::string::npos) << check.message;
  EXPECT_FALSE(verifyReceipt(file.dump(), nullptr, other.publicKey().fingerprint()).valid);
  // The other key's name in the file (with its own fingerprint) does not make the signature its.
  json forged = file;
  forged["signature"]["publicKey"] = common::toHex(other.publicKey().raw());
  forged["signature"]["fingerprint"] = other.publicKey().fingerprint();
  EXPECT_FALSE(verifyReceipt(forged.dump()).valid);
  // Re-signed by the other key: valid for it, not for the server's.
  json resigned = signReceipt(file["receipt"], other);
  EXPECT_TRUE(verifyReceipt(resigned.dump()).valid);
  EXPECT_FALSE(verifyReceipt(resigned.dump(), &server.publicKey()).valid);
}

TEST_F(PrivacyReceiptTest, ItListsTheMembersWithTheirJoinTimesAfterJoinsAndLeaves) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, true);
  wallMs += 5000;
  Client& alice = join(room, false, 2);
  wallMs += 1000;
  json r = receipt(alice);
  EXPECT_EQ(r["format"], kReceiptFormat);
  EXPECT_EQ(r["generatedAt"], wallMs);
  EXPECT_EQ(r["meeting"]["requestedBy"], alice.id);
  EXPECT_EQ(r["participants"]["count"], 2);
  ASSERT_EQ(r["participants"]["present"].size(), 2u);
  std::map<std::string, json> byId;
  for (const auto& p : r["participants"]["present"]) byId[p["id"]] = p;
  EXPECT_EQ(byId[host.id]["joinedAt"], 1764748800000);
  EXPECT_EQ(byId[host.id]["role"], "host");
  EXPECT_EQ(byId[alice.id]["joinedAt"], 1764748805000);
  EXPECT_EQ(byId[alice.id]["role"], "participant");
  EXPECT_EQ(r["securityLog"]["byType"]["joined"], 2);
  EXPECT_EQ(r["securityLog"]["entries"], 2);
  EXPECT_EQ(r["securityLog"]["oldestAt"], 1764748800000);
  EXPECT_EQ(r["securityLog"]["oldestDeletedAfter"], 1764748800000 + 24 * 3600 * 1000);
  EXPECT_EQ(r["serverLog"]["linesAboutMeeting"]["room/info"], 3) << "opened, and two joins";
  EXPECT_EQ(r["encryption"]["endToEnd"], true);
  EXPECT_EQ(r["encryption"]["unencrypted"], json::array());
  // The room ID is only hashed; no profile (the sealed name) is in it.
  EXPECT_EQ(r.dump().find(room), std::string::npos);
  EXPECT_EQ(r.dump().find("sealed"), std::string::npos);

  alice.request({{"type", "leave"}}, now);
  json after = receipt(host);
  EXPECT_EQ(after["participants"]["count"], 1);
  ASSERT_EQ(after["participants"]["present"].size(), 1u);
  EXPECT_EQ(after["participants"]["present"][0]["id"], host.id);
  EXPECT_EQ(after["securityLog"]["byType"]["left"], 1);
  EXPECT_EQ(after["serverLog"]["linesAboutMeeting"]["room/info"], 4);
}

TEST_F(PrivacyReceiptTest, SomeoneWaitingInTheLobbyGetsNoReceiptButIsCounted) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, true);
  host.request({{"type", "set-settings"}, {"lobby", true}}, now);
  Client& knocking = join(room, false, 3);
  ASSERT_TRUE(rooms->isWaiting(room, knocking.id));
  json reply = knocking.request({{"type", "privacy-receipt"}}, now);
  EXPECT_EQ(reply["type"], "error");
  EXPECT_EQ(reply["code"], "not-joined");
  json r = receipt(host);
  EXPECT_EQ(r["participants"]["count"], 1);
  EXPECT_EQ(r["participants"]["waitingInLobby"], 1);
  EXPECT_EQ(r["securityLog"]["byType"]["knocked"], 1);
  EXPECT_EQ(r.dump().find(knocking.id), std::string::npos) << "nobody learns who waits from a receipt";
}

TEST_F(PrivacyReceiptTest, ItListsStoredFilesWithSizesAndDeletionTimesUntilRetentionRemovesThem) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, true);
  upload(host, 1234);
  now += 10s;
  wallMs += 10000;
  upload(host, 10);
  // A reservation whose upload has not come is not a stored file.
  ASSERT_EQ(host.request({{"type", "file-upload"}, {"size", 99}}, now)["type"], "file-upload-ready");
  json r = receipt(host);
  EXPECT_EQ(r["files"]["count"], 2);
  EXPECT_EQ(r["files"]["totalBytes"], 1244);
  EXPECT_EQ(r["files"]["retentionSeconds"], 600);
  ASSERT_EQ(r["files"]["stored"].size(), 2u);
  EXPECT_EQ(r["files"]["stored"][0]["size"], 1234);
  EXPECT_EQ(r["files"]["stored"][0]["storedAt"], 1764748800000);
  EXPECT_EQ(r["files"]["stored"][0]["deleteAt"], 1764748800000 + 600000);
  EXPECT_EQ(r["files"]["stored"][1]["size"], 10);
  EXPECT_EQ(r["files"]["stored"][1]["deleteAt"], 1764748810000 + 600000);
  EXPECT_EQ(r["retention"]["fileRetentionSeconds"], 600);

  // Retention (an injected clock): the first file goes at its time, the second 10 s later.
  now += 590s;
  wallMs += 590000;
  rooms->tick(now);
  r = receipt(host);
  EXPECT_EQ(r["files"]["count"], 1);
  EXPECT_EQ(r["files"]["stored"][0]["size"], 10);
  now += 10s;
  wallMs += 10000;
  rooms->tick(now);
  r = receipt(host);
  EXPECT_EQ(r["files"]["count"], 0);
  EXPECT_EQ(r["files"]["stored"], json::array());
  EXPECT_EQ(r["files"]["totalBytes"], 0);
}

TEST_F(PrivacyReceiptTest, PurgedSecurityLogEntriesAreNoLongerInIt) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, true);
  ASSERT_EQ(receipt(host)["securityLog"]["entries"], 1);
  wallMs += 25LL * 3600 * 1000;  // past the 24 h retention of the join
  now += 5s;
  Client& alice = join(room, false, 2);
  // What the retention job (app/retention.h) does every hour.
  rooms->securityLog().purge(wallMs - 24LL * 3600 * 1000);
  json r = receipt(alice);
  EXPECT_EQ(r["securityLog"]["entries"], 1) << r["securityLog"];
  EXPECT_EQ(r["securityLog"]["oldestAt"], wallMs);
  EXPECT_EQ(r["securityLog"]["byType"], json({{"joined", 1}}));
}

TEST_F(PrivacyReceiptTest, ReceiptsAreRateLimitedPerConnection) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, true);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(host.request({{"type", "privacy-receipt"}}, now)["type"], "privacy-receipt");
  json refused = host.request({{"type", "privacy-receipt"}}, now);
  EXPECT_EQ(refused["code"], "rate-limited");
  now += 5s;
  EXPECT_EQ(host.request({{"type", "privacy-receipt"}}, now)["type"], "privacy-receipt");
}

TEST_F(PrivacyReceiptTest, ItStatesNoSourceAddressOfAnyone) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, true, 77);
  join(room, false, 78);
  upload(host, 5);
  json r = receipt(host);
  EXPECT_EQ(r["addresses"]["storage"], "memory only, never written to disk");
  EXPECT_EQ(r["addresses"]["logged"], false);
  // The sources (::4d and ::4e) appear nowhere, in no notation.
  for (const char* needle : {"::4d", "::4e", "0.0.0.77", "77]"}) EXPECT_EQ(r.dump().find(needle), std::string::npos);
}
