#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace conclave::app;

namespace {

std::string writeTemp(const std::string& text) {
  static int count = 0;  // with the process id, a name no other run uses
  auto path = std::filesystem::temp_directory_path() /
              ("conclave-config-" + std::to_string(::getpid()) + "-" + std::to_string(count++) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

std::string errorKey(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  try {
    parseConfig(args, env);
  } catch (const ConfigError& e) {
    return e.key();
  }
  return "";
}

}  // namespace

TEST(Config, DefaultsNeedNoFile) {
  auto parsed = parseConfig({}, {});
  EXPECT_EQ(parsed.config.port, 8443);
  EXPECT_EQ(parsed.config.logLevel, "info");
  EXPECT_FALSE(parsed.config.logIps);
}

TEST(Config, FlagsOverrideEnvironmentOverridesFile) {
  auto file = writeTemp("port = 1000\nlog_level = \"debug\"\nmax_participants = 7\n");
  auto fromFile = parseConfig({"--config", file}, {});
  EXPECT_EQ(fromFile.config.port, 1000);
  EXPECT_EQ(fromFile.config.maxParticipants, 7);

  auto fromEnv = parseConfig({"--config", file}, {{"CONCLAVE_PORT", "2000"}});
  EXPECT_EQ(fromEnv.config.port, 2000);
  EXPECT_EQ(fromEnv.config.logLevel, "debug");

  auto fromFlag = parseConfig({"--config", file, "--port=3000"}, {{"CONCLAVE_PORT", "2000"}});
  EXPECT_EQ(fromFlag.config.port, 3000);
  auto spaced = parseConfig({"--port", "3001", "--log-ips"}, {});
  EXPECT_EQ(spaced.config.port, 3001);
  EXPECT_TRUE(spaced.config.logIps);
  std::filesystem::remove(file);
}

TEST(Config, ConfigFileFromEnvironment) {
  auto file = writeTemp("data_dir = \"/var/lib/conclave\"\n");
  auto parsed = parseConfig({}, {{"CONCLAVE_CONFIG", file}});
  EXPECT_EQ(parsed.config.dataDir, "/var/lib/conclave");
  std::filesystem::remove(file);
}

TEST(Config, InvalidSettingsNameTheirKey) {
  EXPECT_EQ(errorKey({"--port", "http"}), "port");
  EXPECT_EQ(errorKey({"--port", "70000"}), "port");
  EXPECT_EQ(errorKey({}, {{"CONCLAVE_PORT", "-1"}}), "port");
  EXPECT_EQ(errorKey({"--log-level", "loud"}), "log_level");
  EXPECT_EQ(errorKey({"--nonsense", "1"}), "nonsense");
  EXPECT_EQ(errorKey({}, {{"CONCLAVE_NONSENSE", "1"}}), "");  // ignored, with a warning
  EXPECT_EQ(parseConfig({}, {{"CONCLAVE_NONSENSE", "1"}}).warnings.size(), 1u);
  EXPECT_EQ(errorKey({"--tls-cert", "/x.pem"}), "tls_key");
  EXPECT_EQ(errorKey({"--port"}), "port");
  EXPECT_EQ(errorKey({"--log-ips", "maybe"}), "log_ips");
}

TEST(Config, InvalidFileNamesTheKey) {
  auto typeError = writeTemp("port = \"eighty\"\n");
  EXPECT_EQ(errorKey({"--config", typeError}), "port");
  auto unknown = writeTemp("colour = \"blue\"\n");
  EXPECT_EQ(errorKey({"--config", unknown}), "colour");
  auto broken = writeTemp("port = = 1\n");
  EXPECT_EQ(errorKey({"--config", broken}), "config");
  EXPECT_EQ(errorKey({"--config", "/nonexistent/conclave.toml"}), "config");
  for (const auto& f : {typeError, unknown, broken}) std::filesystem::remove(f);
}

TEST(Config, HelpListsEverySetting) {
  auto help = helpText();
  for (const char* flag :
       {"--port", "--listen", "--data-dir", "--web-root", "--tls-cert", "--tls-key", "--log-level", "--log-ips",
        "--room-grace-seconds", "--max-participants", "--max-message-bytes", "--ws-rate", "--ws-burst", "--config"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  EXPECT_NE(help.find("CONCLAVE_PORT"), std::string::npos);
  EXPECT_TRUE(parseConfig({"--help"}, {}).showHelp);
}

TEST(Config, NoTurnByDefault) {
  auto parsed = parseConfig({}, {});
  EXPECT_TRUE(turnUrlList(parsed.config).empty());
  EXPECT_TRUE(parsed.config.turnSecret.empty());
}

TEST(Config, TurnUrlsAreACommaSeparatedListWithASecret) {
  auto file = writeTemp(
      "turn_urls = \"turn:turn.example.org:3478?transport=udp, turn:turn.example.org:3478?transport=tcp,"
      "turns:turn.example.org:443?transport=tcp\"\n"
      "turn_secret_file = \"/etc/conclave/turn-secret\"\n"
      "turn_credential_seconds = 3600\n");
  auto parsed = parseConfig({"--config", file}, {});
  EXPECT_EQ(turnUrlList(parsed.config), (std::vector<std::string>{"turn:turn.example.org:3478?transport=udp",
                                                                  "turn:turn.example.org:3478?transport=tcp",
                                                                  "turns:turn.example.org:443?transport=tcp"}));
  EXPECT_EQ(parsed.config.turnSecretFile, "/etc/conclave/turn-secret");
  EXPECT_EQ(parsed.config.turnCredentialSeconds, 3600);
  auto fromEnv = parseConfig({}, {{"CONCLAVE_TURN_URLS", "turn:10.0.0.1:3478"}, {"CONCLAVE_TURN_SECRET", "s"}});
  EXPECT_EQ(turnUrlList(fromEnv.config), std::vector<std::string>{"turn:10.0.0.1:3478"});
}

TEST(Config, TurnSettingsThatCannotWorkNameTheirKey) {
  EXPECT_EQ(errorKey({"--turn-urls", "turn:a:3478"}), "turn_urls");  // no secret
  EXPECT_EQ(errorKey({"--turn-secret", "s"}), "turn_secret");        // no URLs
  EXPECT_EQ(errorKey({"--turn-secret-file", "/f"}), "turn_secret_file");
  EXPECT_EQ(errorKey({"--turn-urls", "turn:a", "--turn-secret", "s", "--turn-secret-file", "/f"}), "turn_secret");
  EXPECT_EQ(errorKey({"--turn-urls", "stun:a:3478", "--turn-secret", "s"}), "turn_urls");
  EXPECT_EQ(errorKey({"--turn-urls", "https://a/", "--turn-secret", "s"}), "turn_urls");
  EXPECT_EQ(
      errorKey({"--turn-urls", "turn:a,turn:b,turn:c,turn:d,turn:e,turn:f,turn:g,turn:h,turn:i", "--turn-secret", "s"}),
      "turn_urls");
  EXPECT_EQ(errorKey({"--turn-urls", "turn:a", "--turn-secret", "s", "--turn-credential-seconds", "10"}),
            "turn_credential_seconds");
  EXPECT_EQ(errorKey({"--turn-urls", "turn:a", "--turn-secret", "s"}), "");
}

namespace {
std::string errorMessage(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  try {
    parseConfig(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, MediaListensDualStackByDefault) {
  auto config = parseConfig({}, {}).config;
  EXPECT_EQ(config.mediaListen, "::");
  EXPECT_TRUE(config.mediaAnnouncedAddresses.empty());  // the host's primary address
}

TEST(Config, SeveralAnnouncedAddressesFromFlagEnvironmentAndFile) {
  using Addresses = std::vector<std::string>;
  // Comma-separated in a flag or the environment; spaces around entries are fine; IPv6 in
  // canonical form.
  EXPECT_EQ(
      parseConfig({"--media-announced-address", "203.0.113.7, 2001:DB8:0:0::7"}, {}).config.mediaAnnouncedAddresses,
      (Addresses{"203.0.113.7", "2001:db8::7"}));
  EXPECT_EQ(
      parseConfig({}, {{"CONCLAVE_MEDIA_ANNOUNCED_ADDRESS", "2001:db8::7,192.0.2.1"}}).config.mediaAnnouncedAddresses,
      (Addresses{"2001:db8::7", "192.0.2.1"}));
  // An array (or a single string) in TOML.
  auto array = writeTemp("media_announced_address = [\"192.0.2.1\", \"2001:db8::1\"]\n");
  EXPECT_EQ(parseConfig({"--config", array}, {}).config.mediaAnnouncedAddresses,
            (Addresses{"192.0.2.1", "2001:db8::1"}));
  auto single = writeTemp("media_announced_address = \"192.0.2.1\"\n");
  EXPECT_EQ(parseConfig({"--config", single}, {}).config.mediaAnnouncedAddresses, (Addresses{"192.0.2.1"}));
  // The flag replaces the file's list, as for every setting.
  EXPECT_EQ(parseConfig({"--config", array, "--media-announced-address=::1"}, {}).config.mediaAnnouncedAddresses,
            (Addresses{"::1"}));
  for (const auto& f : {array, single}) std::filesystem::remove(f);
}

TEST(Config, BadAnnouncedAddressesAreNamedInTheError) {
  const std::string key = "media_announced_address";
  auto says = [&](const std::vector<std::string>& args, const std::string& part) {
    const std::string message = errorMessage(args);
    EXPECT_EQ(message.rfind(key + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(part), std::string::npos) << "\"" << message << "\" lacks \"" << part << "\"";
  };
  says({"--media-announced-address", "192.0.2.1,meet.example.org"}, "\"meet.example.org\" is not an IPv4 or IPv6");
  says({"--media-announced-address", "192.0.2.300"}, "\"192.0.2.300\" is not an IPv4 or IPv6 address");
  says({"--media-announced-address", "[2001:db8::1]"}, "without brackets");
  says({"--media-announced-address", "fe80::1%eth0"}, "without brackets, port or zone");
  says({"--media-announced-address", "192.0.2.1,,192.0.2.2"}, "empty entry");
  says({"--media-announced-address", "192.0.2.1,"}, "empty entry");
  says({"--media-announced-address", ""}, "empty entry");
  says({"--media-announced-address", "2001:db8::1, 2001:DB8::1"}, "lists 2001:db8::1 twice");
  says({"--media-announced-address", "0.0.0.0"}, "0.0.0.0 cannot be announced");
  says({"--media-announced-address", "::"}, ":: cannot be announced");
  says({"--media-announced-address", "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9"},
       "more than 8 addresses");
  // The origin is named too.
  EXPECT_NE(errorMessage({}, {{"CONCLAVE_MEDIA_ANNOUNCED_ADDRESS", "x"}}).find("CONCLAVE_MEDIA_ANNOUNCED_ADDRESS"),
            std::string::npos);
  auto numbers = writeTemp("media_announced_address = [1, 2]\n");
  auto commas = writeTemp("media_announced_address = [\"192.0.2.1,192.0.2.2\"]\n");
  auto empty = writeTemp("media_announced_address = []\n");
  EXPECT_NE(errorMessage({"--config", numbers}).find("array of strings"), std::string::npos);
  EXPECT_NE(errorMessage({"--config", commas}).find("without commas"), std::string::npos);
  EXPECT_NE(errorMessage({"--config", empty}).find("at least one address"), std::string::npos);
  for (const auto& f : {numbers, commas, empty}) std::filesystem::remove(f);
}

TEST(Config, TheMediaSocketMustReceiveEveryAnnouncedFamily) {
  // An IPv4 socket (also 0.0.0.0) cannot receive what is sent to an IPv6 address, and a socket on
  // one IPv6 address receives no IPv4; "::" (the default) receives both.
  EXPECT_NE(errorMessage({"--media-listen", "0.0.0.0", "--media-announced-address", "192.0.2.1,2001:db8::1"})
                .find("announces IPv6 2001:db8::1 but media_listen 0.0.0.0 receives only IPv4"),
            std::string::npos);
  EXPECT_NE(errorMessage({"--media-listen", "2001:db8::1", "--media-announced-address", "192.0.2.1"})
                .find("receives only IPv6"),
            std::string::npos);
  EXPECT_EQ(errorKey({"--media-listen", "localhost"}), "media_listen");
  EXPECT_EQ(errorKey({"--media-announced-address", "192.0.2.1,2001:db8::1"}), "");
  EXPECT_EQ(errorKey({"--media-listen", "::", "--media-announced-address", "192.0.2.1"}), "");
  EXPECT_EQ(errorKey({"--media-listen", "10.0.0.5", "--media-announced-address", "203.0.113.7"}), "");  // NAT
}

TEST(Config, WhoMayCreateIsAnyoneOrAccountsFromFileEnvironmentOrFlag) {
  EXPECT_EQ(parseConfig({}, {}).config.whoMayCreate, "anyone");
  EXPECT_EQ(parseConfig({}, {{"CONCLAVE_WHO_MAY_CREATE", "accounts"}}).config.whoMayCreate, "accounts");
  EXPECT_EQ(parseConfig({"--who-may-create", "accounts"}, {}).config.whoMayCreate, "accounts");
  auto file = writeTemp("who_may_create = \"accounts\"\n");
  EXPECT_EQ(parseConfig({"--config", file}, {}).config.whoMayCreate, "accounts");
  std::filesystem::remove(file);
  EXPECT_EQ(errorKey({"--who-may-create", "everybody"}), "who_may_create");
}

TEST(Config, MeetingRetentionIsDaysFromOneToTenYears) {
  EXPECT_EQ(parseConfig({}, {}).config.meetingRetentionDays, 30);
  EXPECT_EQ(parseConfig({"--meeting-retention-days", "2"}, {}).config.meetingRetentionDays, 2);
  EXPECT_EQ(parseConfig({}, {{"CONCLAVE_MEETING_RETENTION_DAYS", "90"}}).config.meetingRetentionDays, 90);
  EXPECT_EQ(errorKey({"--meeting-retention-days", "0"}), "meeting_retention_days");
  EXPECT_EQ(errorKey({"--meeting-retention-days", "3651"}), "meeting_retention_days");
}

TEST(Config, MetricsAreOffByDefaultAndListenWhereTold) {
  EXPECT_EQ(metricsEndpoint(parseConfig({}, {}).config), std::nullopt);
  auto v4 = metricsEndpoint(parseConfig({"--metrics-listen", "127.0.0.1:9464"}, {}).config);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  auto v6 = metricsEndpoint(parseConfig({}, {{"CONCLAVE_METRICS_LISTEN", "[::1]:9100"}}).config);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address, "::1");
  EXPECT_EQ(v6->port, 9100);
  auto file = writeTemp("metrics_listen = \"10.0.0.5:9464\"\n");
  auto fromFile = metricsEndpoint(parseConfig({"--config", file}, {}).config);
  std::filesystem::remove(file);
  ASSERT_TRUE(fromFile);
  EXPECT_EQ(fromFile->address, "10.0.0.5");
}

TEST(Config, MalformedMetricsListenIsNamedInTheError) {
  for (const char* bad : {"9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "::1:9464",
                          "[127.0.0.1]:9464", "127.0.0.1:94x4", "127.0.0.1:-1"})
    EXPECT_EQ(errorKey({"--metrics-listen", bad}), "metrics_listen") << bad;
}
