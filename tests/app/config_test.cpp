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
