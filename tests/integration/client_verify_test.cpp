// The verifiable client through the real binary (docs/security.md, "Verifying the client"):
// `conclave client-hash`, GET /api/client-hash, `conclave verify-client` against servers on
// 127.0.0.1 that serve the expected client or a modified copy of it, and the Content-Security-
// Policy on every page.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "http/client_manifest.h"
#include "server_process.h"

using namespace conclave::testing;
namespace fs = std::filesystem;
namespace http = boost::beast::http;

namespace {

class ClientVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base = fs::temp_directory_path() / ("conclave-verify-" + std::to_string(::getpid()));
    fs::remove_all(base);
    root = base / "web";
    fs::create_directories(root / "assets");
    std::ofstream(root / "index.html") << "<!doctype html><script type=\"module\" src=\"/assets/app-1.js\"></script>"
                                          "<link rel=\"stylesheet\" href=\"/assets/app-1.css\">";
    std::ofstream(root / "assets" / "app-1.js") << "console.log('the published client')";
    std::ofstream(root / "assets" / "app-1.css") << "body{margin:0}";
    expected = writeManifest(root);
  }
  void TearDown() override { fs::remove_all(base); }

  // Writes client-manifest.json for the files in `dir`, as the web build does; returns the hash.
  static std::string writeManifest(const fs::path& dir) {
    std::string error;
    auto digest = conclave::http::digestWebRoot(dir, &error);
    if (!digest) throw std::runtime_error(error);
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : digest->files) files.push_back({{"path", f.path}, {"sha256", f.sha256}});
    std::ofstream(dir / "client-manifest.json") << nlohmann::json{
        {"format", "conclave-client-manifest/1"},
        {"files", files},
        {"clientHash", digest->clientHash}}.dump();
    return digest->clientHash;
  }

  // A copy of the published client in `name`, for a server that serves something else.
  fs::path copyOfClient(const std::string& name) {
    fs::path copy = base / name;
    fs::copy(root, copy, fs::copy_options::recursive);
    return copy;
  }

  static RunResult verify(const ServerProcess& server, const std::string& expect,
                          const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"verify-client", "https://127.0.0.1:" + std::to_string(server.port()),
                                     "--expect",      expect,
                                     "--ca",          (server.dataDir() / "tls" / "cert.pem").string()};
    args.insert(args.end(), more.begin(), more.end());
    return runConclaveCapturing(args);
  }

  fs::path base, root;
  std::string expected;
};

// The directives of a Content-Security-Policy value, by name.
std::map<std::string, std::string> directives(const std::string& policy) {
  std::map<std::string, std::string> out;
  std::stringstream in(policy);
  std::string item;
  while (std::getline(in, item, ';')) {
    auto start = item.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    item = item.substr(start);
    auto space = item.find(' ');
    out[item.substr(0, space)] = space == std::string::npos ? "" : item.substr(space + 1);
  }
  return out;
}

}  // namespace

TEST_F(ClientVerifyTest, ClientHashCommandAndEndpointGiveTheHashOfTheServedFiles) {
  auto printed = runConclaveCapturing({"client-hash", "--web-root", root.string()});
  EXPECT_EQ(printed.status, 0) << printed.err;
  EXPECT_EQ(printed.out, expected + "\n");
  auto flag = runConclaveCapturing({"--client-hash", "--web-root", root.string()});
  EXPECT_EQ(flag.out, expected + "\n");
  // Computed from the files, not read from the manifest.
  std::ofstream(root / "client-manifest.json") << R"({"clientHash":"0000"})";
  EXPECT_EQ(runConclaveCapturing({"client-hash", "--web-root", root.string()}).out, expected + "\n");
  auto none = runConclaveCapturing({"client-hash", "--web-root", (base / "absent").string()});
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("no client hash"), std::string::npos) << none.err;

  ServerProcess server({"--web-root", root.string()});
  auto answer = httpsRequest(server.port(), http::verb::get, "/api/client-hash");
  ASSERT_EQ(answer.status, 200u) << answer.body;
  auto json = nlohmann::json::parse(answer.body);
  EXPECT_EQ(json["clientHash"], expected);
  EXPECT_EQ(json["files"], 3);
}

TEST_F(ClientVerifyTest, VerifyClientAcceptsAServerThatServesTheExpectedClient) {
  ServerProcess server({"--web-root", root.string()});
  auto result = verify(server, expected);
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("verified: 3 files match client hash " + expected), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ok  assets/app-1.js"), std::string::npos) << result.out;
}

TEST_F(ClientVerifyTest, VerifyClientChecksTheServersCertificate) {
  ServerProcess server({"--web-root", root.string()});
  // Without --ca the self-signed certificate is trusted by nothing.
  auto result = runConclaveCapturing(
      {"verify-client", "https://127.0.0.1:" + std::to_string(server.port()), "--expect", expected});
  EXPECT_EQ(result.status, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("TLS handshake"), std::string::npos) << result.out;
}

TEST_F(ClientVerifyTest, AModifiedServedFileIsNamed) {
  // The operator (or whoever owns the server) changes one script and leaves the manifest alone.
  fs::path modified = copyOfClient("modified");
  std::ofstream(modified / "assets" / "app-1.js") << "console.log('the published client');leak(keys)";
  ServerProcess server({"--web-root", modified.string()});
  auto result = verify(server, expected);
  EXPECT_EQ(result.status, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("MISMATCH: assets/app-1.js: served bytes hash to"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("MISMATCH: index.html"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/api/client-hash reports"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("NOT VERIFIED"), std::string::npos) << result.out;
}

TEST_F(ClientVerifyTest, AModifiedClientWithAMatchingManifestFailsTheExpectedHash) {
  // A consistent forgery: the changed script and a manifest rewritten to match it.
  fs::path forged = copyOfClient("forged");
  std::ofstream(forged / "assets" / "app-1.js") << "leak(keys)";
  std::string forgedHash = writeManifest(forged);
  ASSERT_NE(forgedHash, expected);
  ServerProcess server({"--web-root", forged.string()});
  auto result = verify(server, expected);
  EXPECT_EQ(result.status, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("files hash to " + forgedHash + ", not the expected " + expected), std::string::npos)
      << result.out;
  // With the expected build's manifest the changed file is named.
  auto named = verify(server, expected, {"--expect-manifest", (root / "client-manifest.json").string()});
  EXPECT_EQ(named.status, 1);
  EXPECT_NE(named.out.find("MISMATCH: assets/app-1.js: differs from the expected client"), std::string::npos)
      << named.out;
  EXPECT_EQ(named.out.find("MISMATCH: index.html"), std::string::npos) << named.out;
}

TEST_F(ClientVerifyTest, BadArgumentsAreUsageErrors) {
  EXPECT_EQ(runConclaveCapturing({"verify-client", "https://127.0.0.1:1"}).status, 2);
  EXPECT_EQ(runConclaveCapturing({"verify-client", "http://127.0.0.1:1", "--expect", expected}).status, 2);
  EXPECT_EQ(runConclaveCapturing({"verify-client", "https://127.0.0.1:1/x", "--expect", expected}).status, 2);
  EXPECT_EQ(runConclaveCapturing({"verify-client", "https://127.0.0.1:1", "--expect", "abc"}).status, 2);
}

// Every page of the client (the routes that serve index.html) and every other answer carry the
// strict policy: scripts and connections only from the server's own origin, nothing inline.
TEST_F(ClientVerifyTest, EveryHtmlResponseCarriesAStrictContentSecurityPolicy) {
  ServerProcess server({"--web-root", root.string()});
  for (const char* target : {"/", "/index.html", "/r/abcdefghijklmnop", "/login", "/account", "/privacy",
                             "/assets/app-1.js", "/nothing", "/api/client-hash", "/healthz"}) {
    auto answer = httpsRequest(server.port(), http::verb::get, target);
    SCOPED_TRACE(target);
    ASSERT_TRUE(answer.headers.contains("content-security-policy"));
    const std::string& policy = answer.headers["content-security-policy"];
    auto d = directives(policy);
    EXPECT_EQ(d["default-src"], "'self'");
    EXPECT_EQ(d["script-src"], "'self'");
    EXPECT_EQ(d["style-src"], "'self'");
    EXPECT_EQ(d["connect-src"], "'self'");  // CSP 3: 'self' covers wss:// to the same host and port
    EXPECT_EQ(d["object-src"], "'none'");
    EXPECT_EQ(d["base-uri"], "'none'");
    EXPECT_EQ(d["frame-ancestors"], "'none'");
    for (const char* loose : {"unsafe-inline", "unsafe-eval", "http:", "https:", "wss:", "*", "//"})
      EXPECT_EQ(policy.find(loose), std::string::npos) << loose << " in " << policy;
    if (std::string(target) == "/" || std::string(target) == "/privacy") {
      EXPECT_EQ(answer.headers["content-type"], "text/html; charset=utf-8");
    }
  }
}
