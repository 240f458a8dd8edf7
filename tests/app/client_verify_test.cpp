// verify-client's checks over a fake server (a map of target to body): the same logic
// `conclave verify-client` runs over HTTPS (tests/integration/client_verify_test.cpp).
#include "app/client_verify.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

using namespace conclave;

namespace {

struct FakeServer {
  std::map<std::string, std::string> files = {
      {"/index.html", "<!doctype html><script src=\"/assets/app.js\"></script>"},
      {"/assets/app.js", "console.log('published')"},
  };
  std::string hashOverride;  // what /api/client-hash says, if set

  std::vector<http::ClientFile> listed() const {
    std::vector<http::ClientFile> out;
    for (const auto& [target, body] : files) out.push_back({target.substr(1), http::sha256Hex(body)});
    return out;
  }
  // The manifest the build would write for `listed()`.
  std::string manifest() const {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& f : listed()) entries.push_back({{"path", f.path}, {"sha256", f.sha256}});
    return nlohmann::json{
        {"format", "conclave-client-manifest/1"}, {"files", entries}, {"clientHash", http::clientHash(listed())}}
        .dump();
  }
};

struct Run {
  int status;
  std::string out;
};

Run verify(const FakeServer& published, const FakeServer& served, bool withExpectedFiles = false) {
  std::string manifest = served.manifest();
  app::Fetcher fetch = [&](const std::string& target) {
    if (target == "/client-manifest.json") return app::Fetched{200, manifest, ""};
    if (target == "/api/client-hash") {
      std::string hash = served.hashOverride.empty() ? http::clientHash(served.listed()) : served.hashOverride;
      return app::Fetched{200, nlohmann::json{{"clientHash", hash}, {"files", served.files.size()}}.dump(), ""};
    }
    auto it = served.files.find(target == "/" ? "/index.html" : target);
    if (it == served.files.end()) return app::Fetched{404, "", ""};
    return app::Fetched{200, it->second, ""};
  };
  std::FILE* out = std::tmpfile();
  std::optional<std::vector<http::ClientFile>> expectedFiles;
  if (withExpectedFiles) expectedFiles = published.listed();
  int status = app::verifyClient(fetch, http::clientHash(published.listed()), expectedFiles, out);
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text += static_cast<char>(c);
  std::fclose(out);
  return {status, text};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(VerifyClient, TheExpectedClientPasses) {
  FakeServer published;
  auto r = verify(published, published);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "verified: 2 files match")) << r.out;
}

TEST(VerifyClient, AChangedFileUnderAnUnchangedManifestIsNamed) {
  FakeServer published;
  FakeServer served = published;
  std::string manifest = published.manifest();
  served.files["/assets/app.js"] = "leak(keys)";
  // The manifest stays the published one: build it from `published`, serve `served`'s bytes.
  std::string expected = http::clientHash(published.listed());
  app::Fetcher fetch = [&](const std::string& target) {
    if (target == "/client-manifest.json") return app::Fetched{200, manifest, ""};
    if (target == "/api/client-hash") return app::Fetched{200, R"({"clientHash":")" + expected + "\"}", ""};
    auto it = served.files.find(target == "/" ? "/index.html" : target);
    return it == served.files.end() ? app::Fetched{404, "", ""} : app::Fetched{200, it->second, ""};
  };
  std::FILE* out = std::tmpfile();
  EXPECT_EQ(app::verifyClient(fetch, expected, std::nullopt, out), 1);
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text += static_cast<char>(c);
  std::fclose(out);
  EXPECT_TRUE(has(text, "MISMATCH: assets/app.js: served bytes hash to")) << text;
  EXPECT_FALSE(has(text, "MISMATCH: index.html")) << text;
}

TEST(VerifyClient, AConsistentForgeryFailsTheExpectedHashAndTheFileIsNamedWithTheExpectedManifest) {
  FakeServer published;
  FakeServer forged = published;
  forged.files["/assets/app.js"] = "leak(keys)";
  forged.files["/assets/extra.js"] = "more()";
  auto r = verify(published, forged);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(has(r.out, "not the expected")) << r.out;
  EXPECT_TRUE(has(r.out, "/api/client-hash reports")) << r.out;
  auto named = verify(published, forged, true);
  EXPECT_TRUE(has(named.out, "MISMATCH: assets/app.js: differs from the expected client")) << named.out;
  EXPECT_TRUE(has(named.out, "MISMATCH: assets/extra.js: served, but not part of the expected client")) << named.out;
  EXPECT_FALSE(has(named.out, "MISMATCH: index.html")) << named.out;
}

TEST(VerifyClient, AServerThatClaimsAnotherHashOrHasNoManifestFails) {
  FakeServer published;
  FakeServer lying = published;
  lying.hashOverride = std::string(64, 'a');
  EXPECT_EQ(verify(published, lying).status, 1);
  app::Fetcher none = [](const std::string&) { return app::Fetched{0, "", "TLS handshake failed"}; };
  std::FILE* out = std::tmpfile();
  EXPECT_EQ(app::verifyClient(none, std::string(64, 'b'), std::nullopt, out), 1);
  std::fclose(out);
}
