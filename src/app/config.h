// Server configuration: one table of settings, read from a TOML file, CONCLAVE_* environment
// variables and command-line flags (flags override the environment, which overrides the file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace conclave::app {

struct Config {
  std::string listen = "0.0.0.0";
  int port = 8443;
  std::string publicHost = "localhost";
  std::string dataDir = ".conclave-data";
  std::string webRoot;  // defaults to the built client of this source tree
  std::string tlsCert;
  std::string tlsKey;
  std::string logLevel = "info";
  bool logIps = false;
  int roomGraceSeconds = 60;
  int maxParticipants = 100;
  int maxMessageBytes = 65536;
  int wsRate = 50;
  int wsBurst = 200;
  int relayBytesPerSecond = 256 * 1024;
  int roomRelayBytesPerSecond = 1024 * 1024;
  int maxConnections = 2000;
  int maxConnectionsPerSource = 100;
  int maxHandshakesPerSource = 20;
  int wsJoinTimeoutSeconds = 30;
  int httpTimeoutSeconds = 30;
  // "::" is one dual-stack socket per worker: IPv6, and IPv4 as v4-mapped addresses.
  std::string mediaListen = "::";
  // IPv4 and IPv6 literals, canonical form, no duplicates; each becomes a host candidate, the
  // first the most preferred. Empty: the host's primary address.
  std::vector<std::string> mediaAnnouncedAddresses;
  int mediaPort = 40000;
  int mediaWorkers = 0;  // 0: one per core
  // Subscribed streams a media worker hosts before its rooms' new subscribers get their
  // transports on another worker (docs/fanout.md); 0: never. As conference::MediaSettings.
  int fanoutThreshold = 500;
  int maxRoomTracks = 200;
  int maxFileMegabytes = 100;
  int fileRetentionSeconds = 0;  // 0: until the meeting ends
  int maxFileStoreMegabytes = 10240;
  int maxFileMegabytesPerSource = 1024;
  // TURN (all empty: no TURN server, browsers reach the media workers directly).
  std::string turnUrls;  // comma-separated turn:/turns: URLs, see turnUrlList()
  std::string turnSecret;
  std::string turnSecretFile;
  int turnCredentialSeconds = 86400;
  int securityLogRetentionDays = 7;
  int meetingRetentionDays = 30;
  // The privacy notice's operator facts (app/privacy.h); empty ones are reported as missing.
  std::string privacyController;
  std::string privacyContact;
  std::string privacyDpo;
  std::string privacyLegalBasis;
  std::string privacySupervisoryAuthority;
  std::string privacyRecipients;  // other recipients (e.g. the hosting provider); empty: none
  // Who may start a meeting (POST /api/rooms): "anyone" or "accounts" (signed-in account holders).
  std::string whoMayCreate = "anyone";
  // The Prometheus /metrics listener, "ADDRESS:PORT" ("127.0.0.1:9464", "[::1]:9464"); empty: off.
  std::string metricsListen;
};

struct MetricsEndpoint {
  std::string address;  // an IP literal, without brackets
  uint16_t port = 0;
};

// metrics_listen split into address and port; nullopt when it is empty (off). Throws ConfigError
// when it is malformed.
std::optional<MetricsEndpoint> metricsEndpoint(const Config& config);

// The URLs of `turn_urls`, split at commas, blanks trimmed, empty items dropped.
std::vector<std::string> turnUrlList(const Config& config);

// One bad setting: `key` names it as in the TOML file.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error(key + ": " + message), mKey(std::move(key)) {}
  const std::string& key() const { return mKey; }

 private:
  std::string mKey;
};

struct ParsedArgs {
  Config config;
  bool showHelp = false;
  bool showVersion = false;
  std::vector<std::string> warnings;  // e.g. unknown CONCLAVE_* variables, which are ignored
};

// At most this many media_announced_address entries (one host candidate each).
inline constexpr size_t kMaxAnnouncedAddresses = 8;

// Builds the configuration. `env` holds the process environment (only CONCLAVE_* is read).
// Throws ConfigError for an unknown or invalid setting, a missing or malformed file.
ParsedArgs parseConfig(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);

std::string helpText();

}  // namespace conclave::app
