#include "app/config.h"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <array>
#include <charconv>
#include <functional>
#include <sstream>
#include <string_view>

#include "common/version.h"
#include "signaling/protocol.h"
#include "signaling/turn_credentials.h"

namespace conclave::app {
namespace {

enum class Kind { String, Integer, Boolean, LogLevel, AddressList };

// One row per setting: the single place that names it for the file, the environment and flags.
struct Setting {
  const char* key;  // TOML key; flag is --key with '_' → '-', env is CONCLAVE_KEY
  Kind kind;
  int64_t min = 0;
  int64_t max = 0;
  const char* help;
  std::function<void(Config&, const std::string&)> setString = nullptr;
  std::function<void(Config&, int64_t)> setInt = nullptr;
  std::function<void(Config&, bool)> setBool = nullptr;
  std::function<std::string(const Config&)> show = nullptr;
};

// One table row per setting: clang-format would break these macro bodies into something unreadable.
// clang-format off
#define STRING_SETTING(key, field, help) \
  Setting{key, Kind::String, 0, 0, help, [](Config& c, const std::string& v) { c.field = v; }, nullptr, nullptr, [](const Config& c) { return c.field; }}
#define INT_SETTING(key, field, lo, hi, help) \
  Setting{key, Kind::Integer, lo, hi, help, nullptr, [](Config& c, int64_t v) { c.field = static_cast<int>(v); }, nullptr, [](const Config& c) { return std::to_string(c.field); }}
#define BOOL_SETTING(key, field, help) \
  Setting{key, Kind::Boolean, 0, 0, help, nullptr, nullptr, [](Config& c, bool v) { c.field = v; }, [](const Config& c) { return std::string(c.field ? "true" : "false"); }}
// clang-format on

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t") - first + 1));
}

// "192.0.2.7, 2001:db8::7" -> {"192.0.2.7", "2001:db8::7"}: IP literals in canonical form.
// Throws a message (without the key) naming the entry that is wrong.
std::vector<std::string> parseAddressList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string entry =
        trimmed(std::string_view(text).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (entry.empty()) throw std::invalid_argument("has an empty entry; separate addresses with single commas");
    std::array<unsigned char, 16> bytes{};
    std::array<char, INET6_ADDRSTRLEN> canonical{};
    if (::inet_pton(AF_INET, entry.c_str(), bytes.data()) == 1) {
      if (entry == "0.0.0.0")
        throw std::invalid_argument("0.0.0.0 cannot be announced; give the address browsers reach");
      ::inet_ntop(AF_INET, bytes.data(), canonical.data(), canonical.size());
    } else if (::inet_pton(AF_INET6, entry.c_str(), bytes.data()) == 1) {
      if (bytes == std::array<unsigned char, 16>{})
        throw std::invalid_argument(":: cannot be announced; give the address browsers reach");
      ::inet_ntop(AF_INET6, bytes.data(), canonical.data(), canonical.size());
    } else {
      std::string message = "\"" + entry + "\" is not an IPv4 or IPv6 address";
      if (entry.find('[') != std::string::npos || entry.find('%') != std::string::npos)
        message += " (write IPv6 without brackets, port or zone)";
      throw std::invalid_argument(message);
    }
    std::string address(canonical.data());
    for (const auto& seen : out)
      if (seen == address) throw std::invalid_argument("lists " + address + " twice");
    out.push_back(std::move(address));
    if (out.size() > kMaxAnnouncedAddresses)
      throw std::invalid_argument("has more than " + std::to_string(kMaxAnnouncedAddresses) + " addresses");
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      STRING_SETTING("listen", listen, "Address the HTTPS server listens on"),
      INT_SETTING("port", port, 0, 65535, "HTTPS port (0: any free port, printed at start)"),
      STRING_SETTING("public_host", publicHost, "Host name for the generated certificate"),
      STRING_SETTING("data_dir", dataDir, "Directory for the server key and the generated certificate"),
      STRING_SETTING("web_root", webRoot, "Directory of the built web client"),
      STRING_SETTING("tls_cert", tlsCert, "PEM certificate (chain) file; with tls_key replaces the generated one"),
      STRING_SETTING("tls_key", tlsKey, "PEM private key file for tls_cert"),
      Setting{"log_level", Kind::LogLevel, 0, 0, "trace, debug, info, warn, error or off",
              [](Config& c, const std::string& v) { c.logLevel = v; }, nullptr, nullptr,
              [](const Config& c) { return c.logLevel; }},
      BOOL_SETTING("log_ips", logIps, "Write client IP addresses to the log (off by default)"),
      INT_SETTING("room_grace_seconds", roomGraceSeconds, 0, 86400, "How long an empty room is kept in memory"),
      INT_SETTING("max_participants", maxParticipants, 2, 10000, "Participants per room"),
      INT_SETTING("max_message_bytes", maxMessageBytes, 1024, 1048576, "Largest signaling message"),
      INT_SETTING("ws_rate", wsRate, 1, 10000, "Signaling messages per second per connection"),
      INT_SETTING("ws_burst", wsBurst, 1, 100000, "Signaling message burst per connection"),
      INT_SETTING("relay_bytes_per_second", relayBytesPerSecond, 1024, 1000000000,
                  "Relay bytes one connection may cause, a broadcast counted per recipient (burst: 4 s)"),
      INT_SETTING("room_relay_bytes_per_second", roomRelayBytesPerSecond, 1024, 1000000000,
                  "Relay bytes one meeting may cause in all (burst: 4 s)"),
      INT_SETTING("max_connections", maxConnections, 1, 1000000, "Concurrent HTTPS/WebSocket connections"),
      INT_SETTING("max_connections_per_source", maxConnectionsPerSource, 1, 1000000,
                  "Concurrent connections from one IPv4 address or IPv6 /64"),
      INT_SETTING("max_handshakes_per_source", maxHandshakesPerSource, 1, 100000,
                  "TLS handshakes in progress from one IPv4 address or IPv6 /64"),
      INT_SETTING("ws_join_timeout_seconds", wsJoinTimeoutSeconds, 1, 86400,
                  "A WebSocket that joins no meeting is closed after this long"),
      INT_SETTING("http_timeout_seconds", httpTimeoutSeconds, 1, 3600,
                  "Time a client has to send a request, and the longest pause in a transfer"),
      STRING_SETTING("media_listen", mediaListen,
                     "Address the media workers' UDP sockets bind to (:: is IPv6 and IPv4 on one socket)"),
      Setting{"media_announced_address", Kind::AddressList, 0, 0,
              "Addresses browsers send media to, IPv4 and/or IPv6, comma-separated (TOML: a string or an array; "
              "default: the host's primary address)",
              [](Config& c, const std::string& v) { c.mediaAnnouncedAddresses = parseAddressList(v); }, nullptr,
              nullptr, [](const Config& c) { return joinList(c.mediaAnnouncedAddresses); }},
      INT_SETTING("media_port", mediaPort, 0, 65535,
                  "UDP port of the first media worker; worker i uses port + i (0: any)"),
      INT_SETTING("media_workers", mediaWorkers, 0, 256, "Media worker threads (0: one per core)"),
      INT_SETTING("fanout_threshold", fanoutThreshold, 0, 1000000,
                  "Subscribed streams a media worker carries before its rooms' new subscribers are connected to "
                  "the least loaded worker (0: never; one room's fan-out then stays on one core)"),
      INT_SETTING("max_room_tracks", maxRoomTracks, 1, 100000, "Published audio/video tracks per room"),
      INT_SETTING("max_file_megabytes", maxFileMegabytes, 0, 4096, "Largest shared file in MiB (0: file sharing off)"),
      INT_SETTING("file_retention_seconds", fileRetentionSeconds, 0, 31536000,
                  "Delete shared files after this long (0: when the meeting ends)"),
      INT_SETTING("max_file_store_megabytes", maxFileStoreMegabytes, 1, 100000000,
                  "All shared files together, in MiB (the disk also keeps 512 MiB free)"),
      INT_SETTING("max_file_megabytes_per_source", maxFileMegabytesPerSource, 1, 100000000,
                  "Shared files from one IPv4 address or IPv6 /64, in MiB"),
      STRING_SETTING("turn_urls", turnUrls,
                     "TURN server URLs given to participants, comma-separated (turn:host:3478?transport=udp, "
                     "turns:host:443?transport=tcp); needs turn_secret or turn_secret_file"),
      STRING_SETTING("turn_secret", turnSecret,
                     "Shared secret of the TURN server (coturn static-auth-secret); prefer turn_secret_file"),
      STRING_SETTING("turn_secret_file", turnSecretFile, "File holding the TURN shared secret (first line)"),
      INT_SETTING("turn_credential_seconds", turnCredentialSeconds, 60, 604800,
                  "How long a TURN credential is valid; clients ask for a new one halfway"),
      INT_SETTING("security_log_retention_days", securityLogRetentionDays, 1, 3650,
                  "How long the entries of a meeting's security event log are kept"),
      STRING_SETTING("who_may_create", whoMayCreate,
                     "Who may start meetings: anyone, or accounts (only signed-in account holders)"),
      INT_SETTING("meeting_retention_days", meetingRetentionDays, 1, 3650,
                  "How long a meeting's settings, PIN hash and ended/moved mark are kept after its last use"),
      STRING_SETTING("privacy_controller", privacyController,
                     "Privacy notice: the controller (name and postal address of the organisation running this)"),
      STRING_SETTING("privacy_contact", privacyContact, "Privacy notice: contact for data protection questions"),
      STRING_SETTING("privacy_dpo", privacyDpo, "Privacy notice: the data protection officer's contact"),
      STRING_SETTING("privacy_legal_basis", privacyLegalBasis,
                     "Privacy notice: the legal basis of the processing (e.g. Art. 6(1)(b) GDPR)"),
      STRING_SETTING("privacy_supervisory_authority", privacySupervisoryAuthority,
                     "Privacy notice: the supervisory authority data subjects may complain to"),
      STRING_SETTING("privacy_recipients", privacyRecipients,
                     "Privacy notice: recipients besides TURN relays (e.g. the hosting provider); empty: none"),
      STRING_SETTING("metrics_listen", metricsListen,
                     "Plain-HTTP address:port for Prometheus /metrics, e.g. 127.0.0.1:9464 or [::1]:9464 "
                     "(default: off)"),
  };
  return table;
}

const Setting* findSetting(const std::string& key) {
  for (const auto& s : settings())
    if (key == s.key) return &s;
  return nullptr;
}

std::string envName(const std::string& key) {
  std::string out = "CONCLAVE_";
  for (char c : key) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string flagName(const std::string& key) {
  std::string out = "--";
  for (char c : key) out += c == '_' ? '-' : c;
  return out;
}

void applyText(Config& config, const Setting& s, const std::string& value, const std::string& origin) {
  auto bad = [&](const std::string& what) {
    throw ConfigError(s.key, what + " (got \"" + value + "\" from " + origin + ")");
  };
  switch (s.kind) {
    case Kind::String:
      s.setString(config, value);
      return;
    case Kind::AddressList:
      try {
        s.setString(config, value);
      } catch (const std::invalid_argument& e) {
        bad(e.what());
      }
      return;
    case Kind::LogLevel:
      if (value != "trace" && value != "debug" && value != "info" && value != "warn" && value != "error" &&
          value != "off")
        bad("must be one of trace, debug, info, warn, error, off");
      s.setString(config, value);
      return;
    case Kind::Boolean:
      if (value == "true" || value == "1" || value == "yes" || value == "on") s.setBool(config, true);
      else if (value == "false" || value == "0" || value == "no" || value == "off") s.setBool(config, false);
      else bad("must be true or false");
      return;
    case Kind::Integer: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size() || v < s.min || v > s.max)
        bad("must be an integer from " + std::to_string(s.min) + " to " + std::to_string(s.max));
      s.setInt(config, v);
      return;
    }
  }
}

void applyToml(Config& config, const Setting& s, const toml::node& node, const std::string& origin) {
  auto bad = [&](const std::string& what) { throw ConfigError(s.key, what + " (in " + origin + ")"); };
  switch (s.kind) {
    case Kind::String:
    case Kind::LogLevel:
      if (!node.is_string()) bad("must be a string");
      applyText(config, s, *node.value<std::string>(), origin);
      return;
    case Kind::AddressList: {
      if (node.is_string()) {
        applyText(config, s, *node.value<std::string>(), origin);
        return;
      }
      const toml::array* items = node.as_array();
      if (items == nullptr) bad("must be a string or an array of strings");
      std::vector<std::string> texts;
      for (const auto& item : *items) {
        if (!item.is_string()) bad("must be an array of strings");
        texts.push_back(*item.value<std::string>());
        if (texts.back().find(',') != std::string::npos) bad("an array entry holds one address, without commas");
      }
      if (texts.empty()) bad("must list at least one address");
      applyText(config, s, joinList(texts), origin);
      return;
    }
    case Kind::Boolean:
      if (!node.is_boolean()) bad("must be true or false");
      s.setBool(config, *node.value<bool>());
      return;
    case Kind::Integer:
      if (!node.is_integer()) bad("must be an integer");
      applyText(config, s, std::to_string(*node.value<int64_t>()), origin);
      return;
  }
}

void applyFile(Config& config, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "cannot read " << path << ": " << e.description() << " at line " << e.source().begin.line;
    throw ConfigError("config", msg.str());
  }
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    const Setting* s = findSetting(name);
    if (!s) throw ConfigError(name, "unknown setting (in " + path + ")");
    applyToml(config, *s, node, path);
  }
}

void validateTurn(const Config& c) {
  auto urls = turnUrlList(c);
  if (urls.size() > static_cast<size_t>(signaling::kMaxTurnUrls))
    throw ConfigError("turn_urls", "at most " + std::to_string(signaling::kMaxTurnUrls) + " URLs");
  for (const auto& url : urls)
    if (!signaling::isTurnUrl(url))
      throw ConfigError("turn_urls", "\"" + url + "\" is not a turn: or turns: URL of at most 256 characters");
  bool hasSecret = !c.turnSecret.empty() || !c.turnSecretFile.empty();
  if (!c.turnSecret.empty() && !c.turnSecretFile.empty())
    throw ConfigError("turn_secret", "set turn_secret or turn_secret_file, not both");
  if (!urls.empty() && !hasSecret) throw ConfigError("turn_urls", "needs turn_secret or turn_secret_file");
  if (urls.empty() && hasSecret)
    throw ConfigError(c.turnSecret.empty() ? "turn_secret_file" : "turn_secret", "needs turn_urls");
}

// The media socket must receive every family it announces: a dual-stack "::" receives both; an
// IPv4 address (0.0.0.0 too) receives no IPv6; an IPv6 address other than "::" receives no IPv4.
void validateMedia(const Config& c) {
  std::array<unsigned char, 16> bytes{};
  const bool listenV4 = ::inet_pton(AF_INET, c.mediaListen.c_str(), bytes.data()) == 1;
  const bool listenV6 = !listenV4 && ::inet_pton(AF_INET6, c.mediaListen.c_str(), bytes.data()) == 1;
  if (!listenV4 && !listenV6)
    throw ConfigError("media_listen", "\"" + c.mediaListen + "\" is not an IPv4 or IPv6 address");
  const bool dualStack = listenV6 && bytes == std::array<unsigned char, 16>{};
  for (const auto& address : c.mediaAnnouncedAddresses) {
    const bool v6 = address.find(':') != std::string::npos;
    if (v6 && listenV4)
      throw ConfigError("media_announced_address", "announces IPv6 " + address + " but media_listen " + c.mediaListen +
                                                       " receives only IPv4 (use media_listen = \"::\")");
    if (!v6 && listenV6 && !dualStack)
      throw ConfigError("media_announced_address", "announces IPv4 " + address + " but media_listen " + c.mediaListen +
                                                       " receives only IPv6 (use media_listen = \"::\")");
  }
}

}  // namespace

std::optional<MetricsEndpoint> metricsEndpoint(const Config& c) {
  if (c.metricsListen.empty()) return std::nullopt;
  const auto bad = [&c](const std::string& why) {
    return ConfigError("metrics_listen", "\"" + c.metricsListen + "\": " + why);
  };
  auto colon = c.metricsListen.rfind(':');
  if (colon == std::string::npos) throw bad("expected address:port");
  std::string address = c.metricsListen.substr(0, colon);
  std::string port = c.metricsListen.substr(colon + 1);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
    std::array<unsigned char, 16> bytes{};
    if (::inet_pton(AF_INET6, address.c_str(), bytes.data()) != 1) throw bad("not an IPv6 address in brackets");
  } else {
    std::array<unsigned char, 4> bytes{};
    if (::inet_pton(AF_INET, address.c_str(), bytes.data()) != 1)
      throw bad("expected an IPv4 address or an IPv6 address in brackets");
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535)
    throw bad("the port must be 1-65535");
  return MetricsEndpoint{address, static_cast<uint16_t>(std::stoi(port))};
}

namespace {

void validate(const Config& c) {
  if (c.tlsCert.empty() != c.tlsKey.empty())
    throw ConfigError(c.tlsCert.empty() ? "tls_cert" : "tls_key", "tls_cert and tls_key go together");
  if (c.dataDir.empty()) throw ConfigError("data_dir", "must not be empty");
  if (c.wsBurst < c.wsRate) throw ConfigError("ws_burst", "must be at least ws_rate");
  validateTurn(c);
  validateMedia(c);
  (void)metricsEndpoint(c);
  if (c.whoMayCreate != "anyone" && c.whoMayCreate != "accounts")
    throw ConfigError("who_may_create", "must be anyone or accounts (got \"" + c.whoMayCreate + "\")");
}

}  // namespace

ParsedArgs parseConfig(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  ParsedArgs out;
  // Flags are collected first (so --config is known), then applied last.
  std::vector<std::pair<const Setting*, std::string>> flags;
  std::string configFile;
  if (auto it = env.find("CONCLAVE_CONFIG"); it != env.end()) configFile = it->second;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.showHelp = true;
      continue;
    }
    if (arg == "--version") {
      out.showVersion = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) throw ConfigError(arg, "unexpected argument (see --help)");
    std::string value;
    bool hasValue = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      hasValue = true;
    }
    std::string key;
    for (char c : arg.substr(2)) key += c == '-' ? '_' : c;
    const Setting* s = key == "config" ? nullptr : findSetting(key);
    if (key != "config" && !s) throw ConfigError(key, "unknown option " + arg + " (see --help)");
    if (!hasValue) {
      if (s && s->kind == Kind::Boolean && (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw ConfigError(key, "option " + arg + " needs a value");
      }
    }
    if (key == "config") configFile = value;
    else flags.emplace_back(s, value);
  }
  if (out.showHelp || out.showVersion) return out;

  if (!configFile.empty()) applyFile(out.config, configFile);
  for (const auto& s : settings()) {
    if (auto it = env.find(envName(s.key)); it != env.end()) applyText(out.config, s, it->second, it->first);
  }
  for (const auto& [s, value] : flags) applyText(out.config, *s, value, flagName(s->key));
  for (const auto& [name, value] : env) {
    if (name.rfind("CONCLAVE_", 0) != 0 || name == "CONCLAVE_CONFIG") continue;
    bool known = false;
    for (const auto& s : settings()) known = known || envName(s.key) == name;
    if (!known) out.warnings.push_back("ignoring unknown environment variable " + name);
  }
  validate(out.config);
  return out;
}

std::vector<std::string> turnUrlList(const Config& config) {
  std::vector<std::string> out;
  std::string_view rest = config.turnUrls;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

std::string helpText() {
  Config defaults;
  std::ostringstream out;
  out << "conclave " << kVersion << " — self-hosted, end-to-end encrypted video meetings\n\n"
      << "Usage: conclave [--config FILE] [--option VALUE ...]\n"
      << "       conclave admin [--config FILE] [--data-dir DIR] COMMAND   (see conclave admin --help)\n"
      << "       conclave privacy-notice [--lang en|de] [--config FILE] [--option VALUE ...]\n"
      << "       conclave records-of-processing [--config FILE] [--option VALUE ...]\n"
      << "         (the privacy notice and the GDPR Art. 30 record, from the configuration)\n"
      << "       conclave receipt-public-key [--config FILE] [--data-dir DIR]\n"
      << "       conclave verify-receipt FILE [--public-key FILE | --fingerprint HEX]\n"
      << "         (the key that signs privacy receipts; checks a downloaded receipt)\n"
      << "       conclave client-hash [--web-root DIR]   (the hash of the web client served; also --client-hash)\n"
      << "       conclave verify-client https://HOST[:PORT] --expect HASH   (see conclave verify-client --help)\n\n"
      << "Every option can also be set in the TOML file (key = value) or in the environment\n"
      << "(CONCLAVE_KEY). Flags override the environment, which overrides the file.\n\n"
      << "  --config FILE               TOML configuration file (env CONCLAVE_CONFIG)\n"
      << "  --help                      Show this help\n"
      << "  --version                   Show the version\n";
  for (const auto& s : settings()) {
    std::string flag = flagName(s.key) + (s.kind == Kind::Boolean ? "" : " VALUE");
    out << "  " << flag << std::string(flag.size() < 28 ? 28 - flag.size() : 1, ' ') << s.help;
    std::string def = s.show(defaults);
    out << " (default: " << (def.empty() ? "none" : def) << "; env " << envName(s.key) << ")\n";
  }
  return out.str();
}

}  // namespace conclave::app
