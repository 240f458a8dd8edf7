#include "signaling/http_util.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace conclave::signaling;
namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("conclave-web-" + std::to_string(::getpid()));
    fs::create_directories(root / "assets");
    std::ofstream(root / "index.html") << "<!doctype html>";
    std::ofstream(root / "assets" / "index-abc123.js") << "export {}";
    std::ofstream(root / "favicon.svg") << "<svg/>";
    std::ofstream(root / ".secret") << "no";
    std::ofstream(root.parent_path() / "outside.txt") << "no";
  }
  void TearDown() override { fs::remove_all(root); }
  fs::path root;
};

TEST_F(StaticFiles, RoutesIndexAndAssets) {
  EXPECT_EQ(resolveStatic(root, "/")->file, root / "index.html");
  EXPECT_EQ(resolveStatic(root, "/r/abcdef?x=1")->file, root / "index.html");
  auto asset = resolveStatic(root, "/assets/index-abc123.js");
  ASSERT_TRUE(asset);
  EXPECT_TRUE(asset->immutable);
  EXPECT_FALSE(resolveStatic(root, "/favicon.svg")->immutable);
  EXPECT_FALSE(resolveStatic(root, "/")->immutable);
}

TEST_F(StaticFiles, RefusesTraversalHiddenAndMissing) {
  EXPECT_FALSE(resolveStatic(root, "/../outside.txt"));
  EXPECT_FALSE(resolveStatic(root, "/assets/../../outside.txt"));
  EXPECT_FALSE(resolveStatic(root, "/%2e%2e/outside.txt"));
  EXPECT_FALSE(resolveStatic(root, "/.secret"));
  EXPECT_FALSE(resolveStatic(root, "/assets/"));
  EXPECT_FALSE(resolveStatic(root, "/nothing.js"));
  EXPECT_FALSE(resolveStatic(root, "relative"));
  EXPECT_FALSE(resolveStatic(root, "/assets\\x.js"));
}

TEST(Mime, KnownTypes) {
  EXPECT_EQ(mimeType("/a/b.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeType("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mimeType("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mimeType("x.svg"), "image/svg+xml");
  EXPECT_EQ(mimeType("x"), "application/octet-stream");
}
