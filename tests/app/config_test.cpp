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
