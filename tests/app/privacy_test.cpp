#include "app/privacy.h"

#include <gtest/gtest.h>

using namespace conclave::app;

namespace {

std::string all(const std::vector<NoticeSection>& sections) {
  std::string text;
  for (const auto& s : sections) {
    text += s.title + "\n";
    for (const auto& p : s.paragraphs) text += p + "\n";
  }
  return text;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Config complete() {
  Config c;
  c.privacyController = "Example e.V., Hauptstr. 1, 10115 Berlin";
  c.privacyContact = "privacy@example.org";
  c.privacyDpo = "dpo@example.org";
  c.privacyLegalBasis = "Art. 6(1)(f) GDPR";
  c.privacySupervisoryAuthority = "Berliner Beauftragte für Datenschutz und Informationsfreiheit";
  return c;
}

}  // namespace

TEST(PrivacyNotice, EveryOperatorSettingLeftEmptyIsReportedAndMarkedNeverInvented) {
  Config c;
  EXPECT_EQ(missingPrivacySettings(c),
            (std::vector<std::string>{"privacy_controller", "privacy_contact", "privacy_dpo", "privacy_legal_basis",
                                      "privacy_supervisory_authority"}));
  for (auto language : {NoticeLanguage::English, NoticeLanguage::German}) {
    std::string text = all(privacyNotice(c, language));
    for (const auto& key : missingPrivacySettings(c)) EXPECT_TRUE(has(text, key)) << key;
  }
  EXPECT_TRUE(has(all(privacyNotice(c, NoticeLanguage::English)), "[MISSING: the operator has not set privacy_dpo"));
  EXPECT_TRUE(has(all(privacyNotice(c, NoticeLanguage::German)), "[FEHLT: der Betreiber hat privacy_dpo"));
  EXPECT_TRUE(has(all(recordsOfProcessing(c)), "[MISSING"));

  Config full = complete();
  EXPECT_TRUE(missingPrivacySettings(full).empty());
  for (auto language : {NoticeLanguage::English, NoticeLanguage::German}) {
    std::string text = all(privacyNotice(full, language));
    EXPECT_FALSE(has(text, "[MISSING")) << text;
    EXPECT_FALSE(has(text, "[FEHLT")) << text;
    for (const auto* value : {&full.privacyController, &full.privacyContact, &full.privacyDpo, &full.privacyLegalBasis,
                              &full.privacySupervisoryAuthority})
      EXPECT_TRUE(has(text, *value)) << *value;
  }
}

TEST(PrivacyNotice, RetentionAndLoggingFollowTheSettings) {
  Config c = complete();
  c.securityLogRetentionDays = 3;
  c.meetingRetentionDays = 45;
  c.roomGraceSeconds = 120;
  c.fileRetentionSeconds = 7200;
  c.maxFileMegabytes = 25;
  std::string en = all(privacyNotice(c, NoticeLanguage::English));
  EXPECT_TRUE(has(en, "kept for 3 days")) << en;
  EXPECT_TRUE(has(en, "kept for 45 days after the meeting was last used")) << en;
  EXPECT_TRUE(has(en, "2 minutes after the last person left")) << en;
  EXPECT_TRUE(has(en, "25 MiB each, kept for 2 hours after the upload")) << en;
  EXPECT_TRUE(has(en, "contains no IP addresses")) << en;
  std::string de = all(privacyNotice(c, NoticeLanguage::German));
  EXPECT_TRUE(has(de, "aufbewahrt für 3 Tage")) << de;
  EXPECT_TRUE(has(de, "25 MiB je Datei, aufbewahrt für 2 Stunden")) << de;

  c.logIps = true;
  c.logLevel = "debug";
  c.maxFileMegabytes = 0;
  en = all(privacyNotice(c, NoticeLanguage::English));
  EXPECT_TRUE(has(en, "it includes the IP addresses of clients (log_ips is on)")) << en;
  EXPECT_TRUE(has(en, "level \"debug\"")) << en;
  EXPECT_TRUE(has(en, "except in the server log")) << en;
  EXPECT_TRUE(has(en, "File sharing is switched off")) << en;
  EXPECT_TRUE(has(all(recordsOfProcessing(c)), "currently ON: log_ips = true"));
}

TEST(PrivacyNotice, RecipientsAreNoneUnlessTurnOrOthersAreConfigured) {
  Config c = complete();
  std::string en = all(privacyNotice(c, NoticeLanguage::English));
  EXPECT_TRUE(has(en, "None. Nothing is sent to third parties")) << en;
  EXPECT_FALSE(has(en, "TURN")) << en;

  c.turnUrls =
      "turn:relay.example.org:3478?transport=udp, turns:[2001:db8::1]:443?transport=tcp,"
      "turn:relay.example.org:3478?transport=tcp";
  c.privacyRecipients = "Hosting: Example Hosting GmbH (processor, Art. 28 GDPR)";
  en = all(privacyNotice(c, NoticeLanguage::English));
  EXPECT_FALSE(has(en, "None.")) << en;
  EXPECT_TRUE(has(en, "Relay servers (TURN) at relay.example.org, [2001:db8::1]:")) << en;
  EXPECT_TRUE(has(en, c.privacyRecipients)) << en;
  std::string record = all(recordsOfProcessing(c));
  EXPECT_TRUE(has(record, "TURN relay servers: relay.example.org, [2001:db8::1]."));
  EXPECT_TRUE(has(record, "Other recipients: Hosting: Example Hosting GmbH"));
}

TEST(PrivacyNotice, JsonCarriesBothLanguagesAndTheMissingSettings) {
  Config c;
  c.privacyController = "Example";
  auto json = privacyNoticeJson(c);
  EXPECT_EQ(json["missing"].size(), 4u);
  ASSERT_TRUE(json["notice"]["en"].is_array());
  ASSERT_EQ(json["notice"]["en"].size(), json["notice"]["de"].size());
  EXPECT_EQ(json["notice"]["en"][0]["title"], "Who is responsible");
  EXPECT_EQ(json["notice"]["de"][0]["title"], "Verantwortlicher");
  EXPECT_EQ(json["notice"]["en"][0]["paragraphs"][0], "Example");
}

TEST(PrivacyNotice, PlainTextWrapsByCharactersAndUnderlinesTitles) {
  std::string text = formatSections({{"Zweck und Löschung", {std::string(30, 'a') + " " + std::string(30, 'b')}}},
                                    "Datenschutzhinweise", 40);
  EXPECT_EQ(text, "Datenschutzhinweise\n===================\n\nZweck und Löschung\n------------------\n" +
                      std::string(30, 'a') + "\n" + std::string(30, 'b') + "\n\n");
}

TEST(PrivacyNotice, DurationsAreSingularForOne) {
  Config c = complete();
  c.roomGraceSeconds = 60;
  c.securityLogRetentionDays = 1;
  EXPECT_TRUE(has(all(privacyNotice(c, NoticeLanguage::English)), "1 minute after"));
  EXPECT_TRUE(has(all(privacyNotice(c, NoticeLanguage::German)), "und 1 Minute nachdem"));
  EXPECT_TRUE(has(all(privacyNotice(c, NoticeLanguage::German)), "aufbewahrt für 1 Tag."));
  c.roomGraceSeconds = 0;
  EXPECT_TRUE(has(all(privacyNotice(c, NoticeLanguage::English)), "0 seconds after"));
}

TEST(PrivacyNotice, SharedFilesAtRestAndTheEnforcedRetentionAreStated) {
  Config c = complete();
  std::string en = all(privacyNotice(c, NoticeLanguage::English));
  EXPECT_TRUE(has(en, "a key of the meeting that exists only in the server's memory")) << en;
  EXPECT_TRUE(has(en, "login sessions, which end 12 hours after their last use")) << en;
  std::string de = all(privacyNotice(c, NoticeLanguage::German));
  EXPECT_TRUE(has(de, "nur im Arbeitsspeicher des Servers")) << de;
  std::string record = all(recordsOfProcessing(c));
  EXPECT_TRUE(has(record, "Encryption at rest with crypto-shredding")) << record;
  EXPECT_TRUE(has(record, "one purge job deletes what is past these limits from every store")) << record;
  c.maxFileMegabytes = 0;
  EXPECT_FALSE(has(all(privacyNotice(c, NoticeLanguage::English)), "a key of the meeting")) << "no files, no claim";
}
