#include "app/client_verify.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "http/client_manifest.h"

namespace conclave::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxManifestBytes = 1024 * 1024;
constexpr size_t kMaxFileBytes = 64 * 1024 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(30);

struct Origin {
  std::string host;  // without brackets
  std::string port = "443";
  bool isAddress = false;
};

// "https://host[:port][/]", nothing else: the client is served from the root of its origin.
std::optional<Origin> parseOrigin(const std::string& url, std::string* why) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) {
    *why = "the URL must start with https://";
    return std::nullopt;
  }
  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string::npos) {
    *why = "the URL must be https://HOST or https://HOST:PORT (the client is served at the root)";
    return std::nullopt;
  }
  Origin origin;
  std::string portText;
  if (rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      *why = "an IPv6 address needs its closing ]";
      return std::nullopt;
    }
    origin.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        *why = "unexpected text after the IPv6 address";
        return std::nullopt;
      }
      portText = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.find(':');
    origin.host = rest.substr(0, colon);
    if (colon != std::string::npos) portText = rest.substr(colon + 1);
  }
  if (!portText.empty()) {
    if (portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(portText) == 0 || std::stoul(portText) > 65535) {
      *why = "the port must be a number from 1 to 65535";
      return std::nullopt;
    }
    origin.port = portText;
  }
  boost::system::error_code ec;
  asio::ip::make_address(origin.host, ec);
  origin.isAddress = !ec;
  if (origin.host.empty()) {
    *why = "the URL has no host";
    return std::nullopt;
  }
  return origin;
}

// Runs one asynchronous operation to its end on `io` (the stream's timer bounds it).
template <typename Start>
beast::error_code runOperation(asio::io_context& io, Start&& start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

// GETs over HTTPS from one origin, one connection per request, the certificate checked against
// the system's trusted authorities (or only `caFile`) and the host name or address.
class HttpsFetcher {
 public:
  HttpsFetcher(Origin origin, const std::string& caFile) : mOrigin(std::move(origin)) {
    mTls.set_verify_mode(asio::ssl::verify_peer);
    if (caFile.empty()) mTls.set_default_verify_paths();
    else mTls.load_verify_file(caFile);
  }

  Fetched get(const std::string& target) {
    Fetched out;
    auto fail = [&out](const std::string& what, const beast::error_code& ec) {
      out.error = what + ": " + ec.message();
      return out;
    };
    tcp::resolver resolver(mIo);
    beast::error_code ec;
    auto endpoints = resolver.resolve(mOrigin.host, mOrigin.port, ec);
    if (ec) return fail("cannot resolve " + mOrigin.host, ec);
    beast::ssl_stream<beast::tcp_stream> stream(mIo, mTls);
    beast::get_lowest_layer(stream).expires_after(kRequestTimeout);
    if (!mOrigin.isAddress) SSL_set_tlsext_host_name(stream.native_handle(), mOrigin.host.c_str());
    X509_VERIFY_PARAM* param = SSL_get0_param(stream.native_handle());
    if (mOrigin.isAddress) X509_VERIFY_PARAM_set1_ip_asc(param, mOrigin.host.c_str());
    else X509_VERIFY_PARAM_set1_host(param, mOrigin.host.c_str(), 0);
    ec = runOperation(mIo, [&](auto handler) { beast::get_lowest_layer(stream).async_connect(endpoints, handler); });
    if (ec) return fail("cannot connect to " + mOrigin.host + ":" + mOrigin.port, ec);
    ec = runOperation(mIo, [&](auto handler) { stream.async_handshake(asio::ssl::stream_base::client, handler); });
    if (ec) return fail("TLS handshake with " + mOrigin.host + " failed", ec);
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    bool defaultPort = mOrigin.port == "443";
    std::string host = mOrigin.host.find(':') != std::string::npos ? "[" + mOrigin.host + "]" : mOrigin.host;
    req.set(bhttp::field::host, defaultPort ? host : host + ":" + mOrigin.port);
    req.set(bhttp::field::user_agent, "conclave-verify-client");
    req.keep_alive(false);
    ec = runOperation(mIo, [&](auto handler) { bhttp::async_write(stream, req, handler); });
    if (ec) return fail("sending GET " + target + " failed", ec);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(target == "/client-manifest.json" ? kMaxManifestBytes : kMaxFileBytes);
    ec = runOperation(mIo, [&](auto handler) { bhttp::async_read(stream, buffer, parser, handler); });
    if (ec) return fail("reading the answer to GET " + target + " failed", ec);
    out.status = parser.get().result_int();
    out.body = std::move(parser.get().body());
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    runOperation(mIo, [&](auto handler) { stream.async_shutdown(handler); });
    return out;
  }

 private:
  Origin mOrigin;
  asio::io_context mIo;
  asio::ssl::context mTls{asio::ssl::context::tls_client};
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string verifyClientHelpText() {
  return "Usage: conclave verify-client https://HOST[:PORT] --expect HASH [--expect-manifest FILE] [--ca FILE]\n\n"
         "Fetches the web client a Conclave server serves and checks it against HASH, the client hash\n"
         "of a published release or of your own build (`conclave client-hash --web-root DIR`, or the\n"
         "clientHash in the build's client-manifest.json). Only HOST is contacted, over HTTPS.\n"
         "  --expect HASH             the client hash to expect (64 hex digits)\n"
         "  --expect-manifest FILE    the expected build's client-manifest.json: names each differing file\n"
         "                            (its hash is expected when --expect is not given)\n"
         "  --ca FILE                 trust only the certificate(s) in FILE (e.g. a self-signed cert.pem)\n"
         "Exit status: 0 every file matches; 1 a mismatch or failure (each one is listed); 2 usage.\n";
}

// Names the files in which the served manifest differs from the expected build's.
void compareManifests(const std::vector<http::ClientFile>& expected, const std::vector<http::ClientFile>& served,
                      std::vector<std::string>& problems) {
  std::map<std::string, std::string> want, got;
  for (const auto& f : expected) want[f.path] = f.sha256;
  for (const auto& f : served) got[f.path] = f.sha256;
  for (const auto& [path, sha] : want) {
    auto it = got.find(path);
    if (it == got.end()) problems.push_back(path + ": in the expected client, not in the served one");
    else if (it->second != sha) problems.push_back(path + ": differs from the expected client");
  }
  for (const auto& [path, sha] : got)
    if (!want.contains(path)) problems.push_back(path + ": served, but not part of the expected client");
}

int verifyClient(const Fetcher& fetch, const std::string& expectedHash,
                 const std::optional<std::vector<http::ClientFile>>& expectedFiles, std::FILE* out) {
  std::vector<std::string> problems;
  auto manifestAnswer = fetch("/" + std::string(http::kClientManifestName));
  if (!manifestAnswer.error.empty() || manifestAnswer.status != 200) {
    std::fprintf(out, "FAILED: cannot fetch /%s: %s\n", std::string(http::kClientManifestName).c_str(),
                 manifestAnswer.error.empty() ? ("HTTP " + std::to_string(manifestAnswer.status)).c_str()
                                              : manifestAnswer.error.c_str());
    return 1;
  }
  std::string why;
  auto manifest = http::parseClientManifest(manifestAnswer.body, &why);
  if (!manifest) {
    std::fprintf(out, "FAILED: the served manifest is not valid: %s\n", why.c_str());
    return 1;
  }
  std::string listedHash = http::clientHash(manifest->files);
  if (listedHash != expectedHash) {
    problems.push_back("the served manifest's files hash to " + listedHash + ", not the expected " + expectedHash);
    if (expectedFiles) compareManifests(*expectedFiles, manifest->files, problems);
  }
  if (manifest->clientHash != listedHash)
    problems.push_back("the manifest claims client hash " + manifest->clientHash + " but its files hash to " +
                       listedHash);
  std::string indexHash;
  for (const auto& file : manifest->files) {
    auto answer = fetch("/" + file.path);
    if (!answer.error.empty() || answer.status != 200) {
      problems.push_back(file.path + ": not served (" +
                         (answer.error.empty() ? "HTTP " + std::to_string(answer.status) : answer.error) + ")");
      continue;
    }
    std::string served = http::sha256Hex(answer.body);
    if (file.path == "index.html") indexHash = file.sha256;
    if (served != file.sha256)
      problems.push_back(file.path + ": served bytes hash to " + served + ", the manifest says " + file.sha256);
    else std::fprintf(out, "ok  %s\n", file.path.c_str());
  }
  // A browser opens "/" (and /r/<room>), not /index.html: that page must be the listed one too.
  if (indexHash.empty()) {
    problems.push_back("the manifest lists no index.html");
  } else {
    auto root = fetch("/");
    if (!root.error.empty() || root.status != 200)
      problems.push_back("/: not served (" + (root.error.empty() ? "HTTP " + std::to_string(root.status) : root.error) +
                         ")");
    else if (http::sha256Hex(root.body) != indexHash)
      problems.push_back("/: the page served at the root is not the listed index.html");
  }
  // What the server says it serves (computed by the server from its files).
  auto reported = fetch("/api/client-hash");
  if (reported.error.empty() && reported.status == 200) {
    auto json = nlohmann::json::parse(reported.body, nullptr, false);
    if (json.is_object() && json.contains("clientHash") && json["clientHash"].is_string()) {
      std::string claimed = lower(json["clientHash"].get<std::string>());
      if (claimed != expectedHash)
        problems.push_back("/api/client-hash reports " + claimed.substr(0, 64) +
                           ": the server's web root holds a different client (or more files) than expected");
    } else {
      problems.push_back("/api/client-hash gave no clientHash");
    }
  } else {
    problems.push_back("/api/client-hash: " +
                       (reported.error.empty() ? "HTTP " + std::to_string(reported.status) : reported.error));
  }
  for (const auto& p : problems) std::fprintf(out, "MISMATCH: %s\n", p.c_str());
  if (problems.empty()) {
    std::fprintf(out, "verified: %zu files match client hash %s\n", manifest->files.size(), expectedHash.c_str());
    return 0;
  }
  std::fprintf(out, "NOT VERIFIED: %zu problem(s); this server does not serve the expected client\n", problems.size());
  return 1;
}

int runVerifyClient(const std::vector<std::string>& args, std::FILE* out, std::FILE* err) {
  std::string url, expect, caFile, expectManifest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(verifyClientHelpText().c_str(), out);
      return 0;
    }
    if ((a == "--expect" || a == "--ca" || a == "--expect-manifest") && i + 1 < args.size()) {
      (a == "--expect" ? expect : a == "--ca" ? caFile : expectManifest) = args[++i];
    } else if (a.rfind("--", 0) != 0 && url.empty()) {
      url = a;
    } else {
      std::fprintf(err, "conclave verify-client: unexpected argument %s\n\n%s", a.c_str(),
                   verifyClientHelpText().c_str());
      return 2;
    }
  }
  expect = lower(expect);
  std::optional<std::vector<http::ClientFile>> expectedFiles;
  if (!expectManifest.empty()) {
    std::ifstream in(expectManifest, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string why;
    auto local = in ? http::parseClientManifest(text.str(), &why) : std::nullopt;
    if (!local) {
      std::fprintf(err, "conclave verify-client: cannot use %s: %s\n", expectManifest.c_str(),
                   in ? why.c_str() : "cannot read it");
      return 2;
    }
    std::string localHash = http::clientHash(local->files);
    if (expect.empty()) expect = localHash;
    if (expect != localHash) {
      std::fprintf(err, "conclave verify-client: the files of %s hash to %s, not to --expect %s\n",
                   expectManifest.c_str(), localHash.c_str(), expect.c_str());
      return 2;
    }
    expectedFiles = std::move(local->files);
  }
  if (url.empty() || expect.size() != 64 || expect.find_first_not_of("0123456789abcdef") != std::string::npos) {
    std::fprintf(err, "conclave verify-client: give the server's URL and --expect with a 64-hex-digit hash\n\n%s",
                 verifyClientHelpText().c_str());
    return 2;
  }
  std::string why;
  auto origin = parseOrigin(url, &why);
  if (!origin) {
    std::fprintf(err, "conclave verify-client: %s\n", why.c_str());
    return 2;
  }
  try {
    HttpsFetcher fetcher(*origin, caFile);
    return verifyClient([&fetcher](const std::string& target) { return fetcher.get(target); }, expect, expectedFiles,
                        out);
  } catch (const std::exception& e) {
    std::fprintf(err, "conclave verify-client: %s\n", e.what());
    return 1;
  }
}

int printClientHash(const std::filesystem::path& webRoot, std::FILE* out, std::FILE* err) {
  std::string why;
  auto digest = http::digestWebRoot(webRoot, &why);
  if (!digest) {
    std::fprintf(err, "conclave: no client hash: %s\n", why.c_str());
    return 1;
  }
  if (digest->files.empty()) {
    std::fprintf(err, "conclave: no client hash: %s serves no files (is the web client built?)\n",
                 webRoot.string().c_str());
    return 1;
  }
  std::fprintf(out, "%s\n", digest->clientHash.c_str());
  return 0;
}

}  // namespace conclave::app
