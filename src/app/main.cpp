// conclave: the server binary. Reads the configuration, prepares keys and the TLS certificate,
// starts the HTTPS/WebSocket front and runs until SIGINT or SIGTERM.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "accounts/account_service.h"
#include "app/admin.h"
#include "app/client_verify.h"
#include "app/config.h"
#include "app/privacy.h"
#include "app/receipt_cli.h"
#include "app/retention.h"
#include "common/certificate.h"
#include "common/log.h"
#include "common/metrics_text.h"
#include "common/version.h"
#include "conference/media_plane.h"
#include "http/account_api.h"
#include "http/metrics_server.h"
#include "http/server.h"
#include "signaling/protocol.h"
#include "signaling/rooms.h"
#include "signaling/stored_meeting_store.h"
#include "signaling/stored_security_log.h"
#include "store/account_store.h"
#include "store/database.h"
#include "store/file_store.h"
#include "store/key_store.h"

#ifndef CONCLAVE_DEFAULT_WEB_ROOT
#define CONCLAVE_DEFAULT_WEB_ROOT "web/dist"
#endif

extern char** environ;

namespace conclave::app {
namespace {

namespace asio = boost::asio;

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos && kv.rfind("CONCLAVE_", 0) == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void writePrivateFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << text;
  out.close();
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// The configured certificate, or the one generated on first start into <data_dir>/tls/.
common::Certificate tlsCertificate(const Config& config) {
  if (!config.tlsCert.empty()) {
    try {
      return common::Certificate::fromPem(readFile(config.tlsCert), readFile(config.tlsKey));
    } catch (const std::exception& e) {
      throw ConfigError("tls_cert", e.what());
    }
  }
  std::string dir = config.dataDir + "/tls";
  store::ensureDirectory(dir, 0700);
  std::string certPath = dir + "/cert.pem", keyPath = dir + "/key.pem";
  if (std::filesystem::exists(certPath) && std::filesystem::exists(keyPath)) {
    auto cert = common::Certificate::fromPem(readFile(certPath), readFile(keyPath));
    if (X509_cmp_current_time(X509_get0_notAfter(cert.x509())) > 0) return cert;
  }
  auto cert = common::Certificate::generateSelfSigned(config.publicHost);
  writePrivateFile(keyPath, cert.keyPem());
  writePrivateFile(certPath, cert.certPem());
  common::logger("tls")->info("generated a self-signed certificate (SHA-256 {})", cert.sha256FingerprintText());
  return cert;
}

// The first IPv4 address of an interface that is up and not loopback (no packet is sent).
std::string primaryAddress() {
  ifaddrs* list = nullptr;
  std::string found = "127.0.0.1";
  if (getifaddrs(&list) != 0) return found;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK))
      continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    found = text;
    break;
  }
  freeifaddrs(list);
  return found;
}

// Raises the soft limit on open files to the hard limit and returns how many descriptors the
// HTTPS front may use for connections: every connection may hold a second one (a file it
// serves), and the rest of the process (media sockets, epoll, the store, logs) keeps a reserve.
size_t connectionBudget(int mediaWorkers) {
  constexpr rlim_t kCeiling = 1 << 20;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? kCeiling : std::min(limit.rlim_max, kCeiling);
  if (limit.rlim_cur < wanted) {
    rlimit raised{wanted, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.rlim_cur = wanted;
  }
  rlim_t reserve = 64 + 8 * static_cast<rlim_t>(mediaWorkers);
  return limit.rlim_cur > reserve ? static_cast<size_t>((limit.rlim_cur - reserve) / 2) : 1;
}

// The TURN server and its shared secret, or nullopt when none is configured.
std::optional<signaling::TurnSettings> turnSettings(const Config& config) {
  auto urls = turnUrlList(config);
  if (urls.empty()) return std::nullopt;
  std::string secret = config.turnSecret;
  if (!config.turnSecretFile.empty()) {
    try {
      secret = readFile(config.turnSecretFile);
    } catch (const std::exception& e) {
      throw ConfigError("turn_secret_file", e.what());
    }
    secret = secret.substr(0, secret.find_first_of("\r\n"));
  }
  if (secret.empty()) throw ConfigError("turn_secret_file", "the first line of " + config.turnSecretFile + " is empty");
  return signaling::TurnSettings{std::move(urls), std::move(secret),
                                 std::chrono::seconds(config.turnCredentialSeconds)};
}

void configureTls(asio::ssl::context& ctx, const Config& config, const common::Certificate& cert) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(native,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  if (!config.tlsCert.empty()) {
    // The whole chain from the operator's file.
    if (SSL_CTX_use_certificate_chain_file(native, config.tlsCert.c_str()) != 1)
      throw ConfigError("tls_cert", "cannot use the certificate chain in " + config.tlsCert);
  } else if (SSL_CTX_use_certificate(native, cert.x509()) != 1) {
    throw std::runtime_error("cannot use the generated certificate");
  }
  if (SSL_CTX_use_PrivateKey(native, cert.privateKey()) != 1 || SSL_CTX_check_private_key(native) != 1)
    throw ConfigError("tls_key", "the key does not match the certificate");
}

int run(const Config& config) {
  common::initLogging({config.logLevel, config.logIps});
  auto log = common::logger("main");

  store::Database db(config.dataDir);
  store::KeyStore keys(db);
  common::setLogKey(keys.getOrCreateKey("log-hash", 32));
  signaling::RoomIdIssuer issuer(keys.getOrCreateKey("room-id", 32));
  auto cert = tlsCertificate(config);

  asio::io_context io(1);
  asio::ssl::context tls(asio::ssl::context::tls_server);
  configureTls(tls, config, cert);

  conference::MediaSettings mediaSettings;
  mediaSettings.listen = config.mediaListen;
  mediaSettings.announcedAddresses = config.mediaAnnouncedAddresses;
  if (mediaSettings.announcedAddresses.empty()) mediaSettings.announcedAddresses = {primaryAddress()};
  mediaSettings.port = static_cast<uint16_t>(config.mediaPort);
  mediaSettings.maxRoomTracks = static_cast<size_t>(config.maxRoomTracks);
  mediaSettings.fanoutThreshold = static_cast<size_t>(config.fanoutThreshold);
  mediaSettings.workers = config.mediaWorkers > 0 ? config.mediaWorkers
                                                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  conference::MediaPlane media(
      mediaSettings, [&io](std::function<void()> task) { asio::post(io, std::move(task)); },
      [&io](common::Duration delay, std::function<void()> task) {
        auto timer = std::make_shared<asio::steady_timer>(io, delay);
        timer->async_wait([timer, task = std::move(task)](boost::system::error_code ec) {
          if (!ec) task();
        });
      });
  media.start();
  for (const auto& address : mediaSettings.announcedAddresses)
    log->info("media announced at {} ({} workers)", common::logAddress(address), mediaSettings.workers);

  std::unique_ptr<store::FileStore> files;
  if (config.maxFileMegabytes > 0) {
    store::FileStore::Settings fileSettings;
    fileSettings.directory = std::filesystem::path(config.dataDir) / "files";
    fileSettings.maxFileBytes = static_cast<uint64_t>(config.maxFileMegabytes) * 1024 * 1024;
    fileSettings.maxRoomBytes = std::max<uint64_t>(fileSettings.maxFileBytes * 4, 1024ull * 1024 * 1024);
    fileSettings.retention = std::chrono::seconds(config.fileRetentionSeconds);
    fileSettings.maxTotalBytes = static_cast<uint64_t>(config.maxFileStoreMegabytes) * 1024 * 1024;
    fileSettings.maxSourceBytes = static_cast<uint64_t>(config.maxFileMegabytesPerSource) * 1024 * 1024;
    files = std::make_unique<store::FileStore>(fileSettings);
  }
  signaling::RoomManager::Settings roomSettings;
  roomSettings.maxParticipants = static_cast<size_t>(config.maxParticipants);
  roomSettings.grace = std::chrono::seconds(config.roomGraceSeconds);
  roomSettings.relayBytesPerSecond = config.roomRelayBytesPerSecond;
  roomSettings.relayBurstBytes = 4.0 * config.roomRelayBytesPerSecond;
  roomSettings.securityLogRetention = std::chrono::hours(24 * config.securityLogRetentionDays);
  std::optional<signaling::TurnIssuer> turn;
  if (auto turnConfig = turnSettings(config)) {
    log->info("TURN: {} URLs, credentials valid for {} s", turnConfig->urls.size(), turnConfig->lifetime.count());
    turn.emplace(std::move(*turnConfig));
  }
  signaling::RoomManager rooms(issuer, roomSettings, &media, files.get());
  if (turn) rooms.setTurn(&*turn);
  rooms.setHostTokenKey(keys.getOrCreateKey("host-token", 32));
  // Privacy receipts are signed with the server's long-term key (published with receipt-public-key).
  const common::Ed25519PrivateKey signingKey = receiptKey(keys);
  rooms.setReceiptKey(&signingKey);
  rooms.setReceiptFacts(
      {config.logLevel, config.logIps, config.meetingRetentionDays, true,
       std::chrono::duration_cast<std::chrono::seconds>(conference::MediaPlane::consentTimeout()).count()});
  log->info("privacy receipts are signed with Ed25519 key {}", signingKey.publicKey().fingerprint());
  // Settings of meetings (and their PINs' hashes) in the database; persistent rooms keep theirs
  // with the room. Purged meeting_retention_days after their last use (the retention job, below).
  const auto kMeetingRetention = std::chrono::hours(24 * config.meetingRetentionDays);
  signaling::StoredMeetingStore meetings(db, 100000, config.maxParticipants);
  rooms.setMeetingStore(&meetings);
  // Each meeting's security event log in the database too (bounded per meeting and in all),
  // purged by the retention job after security_log_retention_days.
  signaling::StoredSecurityLog securityLog(db, {});
  rooms.setSecurityLog(&securityLog);
  // PINs are hashed (Argon2id, ~80 ms each) on a thread of their own, results back on this one.
  signaling::ThreadPinHasher pinHasher([&io](std::function<void()> task) { asio::post(io, std::move(task)); });
  rooms.setPinHasher(&pinHasher);
  http::ServerSettings settings;
  settings.listen = config.listen;
  settings.port = static_cast<uint16_t>(config.port);
  settings.webRoot = config.webRoot.empty() ? std::string(CONCLAVE_DEFAULT_WEB_ROOT) : config.webRoot;
  settings.httpTimeout = std::chrono::seconds(config.httpTimeoutSeconds);
  settings.maxConnections = static_cast<size_t>(config.maxConnections);
  size_t budget = connectionBudget(mediaSettings.workers);
  if (settings.maxConnections > budget) {
    log->warn("max_connections {} is more than the open-file limit allows; using {}", settings.maxConnections, budget);
    settings.maxConnections = budget;
  }
  settings.perSource.maxConnections = static_cast<size_t>(config.maxConnectionsPerSource);
  settings.perSource.maxHandshakes = static_cast<size_t>(config.maxHandshakesPerSource);
  settings.wsJoinTimeout = std::chrono::seconds(config.wsJoinTimeoutSeconds);
  settings.connection.maxMessageBytes = static_cast<size_t>(config.maxMessageBytes);
  settings.connection.rate = config.wsRate;
  settings.connection.burst = config.wsBurst;
  settings.connection.relayBytesPerSecond = config.relayBytesPerSecond;
  settings.connection.relayBurstBytes = 4.0 * config.relayBytesPerSecond;
  settings.privacyNotice = privacyNoticeJson(config);
  settings.receiptKey = receiptKeyJson(signingKey.publicKey());
  for (const auto& key : missingPrivacySettings(config))
    log->warn("the privacy notice (/privacy) lacks what only the operator can say: {} is not set", key);
  if (!std::filesystem::exists(settings.webRoot / "index.html"))
    log->warn("the web client is not built: {} has no index.html (run `make run` or `npm run build` in web/)",
              settings.webRoot.string());

  http::Server server(io, tls, rooms, settings);

  // Host accounts. Argon2id hashes (256 MiB, ~0.5 s each) run one at a time on their own thread.
  asio::thread_pool hasher(1);
  store::AccountStore accountStore(db);
  accounts::AccountService accountService(
      accountStore, keys.getOrCreateKey("host-token", 32), keys.getOrCreateKey("csrf", 32),
      [&issuer] { return issuer.issue(); }, accounts::AccountSettings{},
      [&io, &hasher](std::function<void()> work, std::function<void()> then) {
        asio::post(hasher, [&io, work = std::move(work), then = std::move(then)]() mutable {
          try {
            work();
          } catch (const std::exception& e) {
            common::logger("accounts")->error("password hashing failed: {}", e.what());
          }
          asio::post(io, std::move(then));
        });
      },
      [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      });
  // A persistent room's settings are what set-settings takes, without a PIN (a PIN is set in the
  // meeting, where it is hashed; the room's settings are stored as they come).
  accountService.setSettingsCheck([](const nlohmann::json& asked) -> std::optional<std::string> {
    if (asked.contains("pin")) return "a PIN is set in the meeting, not with the room's settings";
    return signaling::settingsChangeProblem(asked);
  });
  http::AccountApi accountApi(
      accountService, config.whoMayCreate == "accounts" ? http::WhoMayCreate::Accounts : http::WhoMayCreate::Anyone);
  server.setAccounts(&accountApi);
  server.start();

  // Prometheus /metrics on a listener of its own (metrics_listen; off by default). It runs on this
  // thread, so it reads the rooms directly; the workers' counters are relaxed atomics.
  std::unique_ptr<http::MetricsServer> metrics;
  if (auto endpoint = metricsEndpoint(config)) {
    metrics = std::make_unique<http::MetricsServer>(io, endpoint->address, endpoint->port, [&rooms, &media] {
      common::MetricsText out;
      out.gauge("conclave_rooms", "Meetings open now (in memory).", rooms.roomCount());
      out.gauge("conclave_participants", "Participants joined in all meetings now.", rooms.participantTotal());
      media.writeMetrics(out);
      return out.text();
    });
    metrics->start();
    log->info("metrics at http://{}/metrics", config.metricsListen);
  }

  // Retention, enforced: every store's purge at start and then hourly, from this one job.
  common::SteadyClock steadyClock;
  common::SystemWallClock wallClock;
  RetentionJob retention(std::chrono::hours(1));
  if (files) retention.add("files", filePurge(*files, steadyClock));
  retention.add("meetings", meetingPurge(meetings, wallClock, kMeetingRetention));
  retention.add("security log", securityLogPurge(securityLog, wallClock, roomSettings.securityLogRetention));
  retention.add("accounts", accountPurge(accountService));
  retention.tick(steadyClock.now());

  // Empty rooms are dropped after their grace period; the retention job runs when due.
  asio::steady_timer tick(io);
  std::function<void()> scheduleTick = [&] {
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      rooms.tick(steadyClock.now());
      retention.tick(steadyClock.now());
      scheduleTick();
    });
  };
  scheduleTick();

  asio::steady_timer deadline(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log->info("signal {}: shutting down", signal);
    tick.cancel();
    if (metrics) metrics->stop();
    server.shutdown([&] { io.stop(); });
    deadline.expires_after(std::chrono::seconds(3));
    deadline.async_wait([&](boost::system::error_code e) {
      if (!e) io.stop();
    });
  });

  std::printf("Conclave %s is running at https://%s:%u/\n", kVersion, config.publicHost.c_str(),
              static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  log->info("listening on port {} (TLS 1.2+)", server.port());
  io.run();
  media.stop();
  log->info("stopped");
  spdlog::shutdown();
  // Sessions still pending (idle keep-alive connections) are not unwound: the process ends here.
  std::fflush(stdout);
  std::_Exit(0);
}

// The configuration from flags and environment, its warnings printed; nothing (and why, printed)
// when it is invalid.
std::optional<ParsedArgs> parseOrExplain(const std::vector<std::string>& args) {
  try {
    ParsedArgs parsed = parseConfig(args, environment());
    for (const auto& w : parsed.warnings) std::fprintf(stderr, "conclave: warning: %s\n", w.c_str());
    return parsed;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "conclave: invalid configuration: %s\n", e.what());
    return std::nullopt;
  }
}

// Runs a subcommand; what it throws is printed after `prefix` and exits with status 1.
template <typename Run>
int guarded(const char* prefix, Run&& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prefix, e.what());
    return 1;
  }
}

// `conclave privacy-notice [--lang de] [config flags]`, `conclave records-of-processing [config flags]`.
int printPrivacyDocument(std::vector<std::string> args) {
  const bool notice = args[0] == "privacy-notice";
  args.erase(args.begin());
  NoticeLanguage language = NoticeLanguage::English;
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (*it != "--lang") continue;
    if (std::next(it) == args.end() || (*std::next(it) != "en" && *std::next(it) != "de")) {
      std::fprintf(stderr, "conclave: --lang takes en or de\n");
      return 2;
    }
    language = *std::next(it) == "de" ? NoticeLanguage::German : NoticeLanguage::English;
    args.erase(it, it + 2);
    break;
  }
  auto parsed = parseOrExplain(args);
  if (!parsed) return 2;
  const Config& config = parsed->config;
  std::string text =
      notice ? formatSections(privacyNotice(config, language),
                              language == NoticeLanguage::German ? "Datenschutzhinweise" : "Privacy notice")
             : formatSections(recordsOfProcessing(config), "Record of processing activities (GDPR Art. 30)");
  std::fputs(text.c_str(), stdout);
  auto missing = missingPrivacySettings(config);
  for (const auto& key : missing) std::fprintf(stderr, "conclave: missing: %s is not set\n", key.c_str());
  return 0;
}

// `conclave client-hash [config flags]` or `conclave --client-hash [config flags]`: the hash of the
// client this configuration would serve, from the files in its web root.
int printServedClientHash(std::vector<std::string> args) {
  std::erase_if(args, [](const std::string& a) { return a == "client-hash" || a == "--client-hash"; });
  auto parsed = parseOrExplain(args);
  if (!parsed) return 2;
  const Config& config = parsed->config;
  return printClientHash(config.webRoot.empty() ? std::string(CONCLAVE_DEFAULT_WEB_ROOT) : config.webRoot, stdout,
                         stderr);
}

}  // namespace
}  // namespace conclave::app

int main(int argc, char** argv) {
  using namespace conclave::app;
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string command = args.empty() ? std::string() : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (command == "admin")
    return guarded("conclave admin", [&] { return runAdmin(rest, environment(), stdin, stdout, stderr); });
  if (command == "privacy-notice" || command == "records-of-processing") return printPrivacyDocument(args);
  if (command == "verify-receipt") return runVerifyReceipt(rest, stdout, stderr);
  if (command == "receipt-public-key")
    return guarded("conclave", [&] { return runReceiptPublicKey(rest, environment(), stdout, stderr); });
  if (command == "verify-client") return runVerifyClient(rest, stdout, stderr);
  if (command == "client-hash" || std::find(args.begin(), args.end(), "--client-hash") != args.end())
    return printServedClientHash(args);
  auto checked = parseOrExplain(args);
  if (!checked) return 2;
  ParsedArgs& parsed = *checked;
  if (parsed.showHelp) {
    std::fputs(helpText().c_str(), stdout);
    return 0;
  }
  if (parsed.showVersion) {
    std::printf("conclave %s\n", conclave::kVersion);
    return 0;
  }
  try {
    return run(parsed.config);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "conclave: invalid configuration: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conclave: %s\n", e.what());
    return 1;
  }
}
