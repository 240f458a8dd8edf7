#include "http/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace conclave::http;
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
  void TearDown() override {
    fs::remove_all(root);
    fs::remove(root.parent_path() / "outside.txt");
  }
  fs::path root;
};

TEST_F(StaticFiles, RoutesIndexAndAssets) {
  EXPECT_EQ(resolveStatic(root, "/")->file, fs::canonical(root / "index.html"));
  EXPECT_EQ(resolveStatic(root, "/r/abcdef?x=1")->file, fs::canonical(root / "index.html"));
  EXPECT_EQ(resolveStatic(root, "/favicon.svg#x")->file, fs::canonical(root / "favicon.svg"));
  EXPECT_EQ(resolveStatic(root, "/%66avicon.svg")->file, fs::canonical(root / "favicon.svg"));
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

// Every spelling of "somewhere else" an attacker tried (issue 7, finding 1) or could try.
TEST_F(StaticFiles, NeverServesAFileOutsideTheWebRoot) {
  const fs::path outside = root.parent_path() / "outside.txt";
  const std::string absOutside = outside.string();
  const std::string attacks[] = {
      "//etc/passwd",
      "///etc/passwd",
      "/" + absOutside,
      "/" + absOutside + "?x",
      "//" + absOutside,
      "/assets//etc/passwd",
      "/assets/..",
      "/assets/../../outside.txt",
      "/./index.html",
      "/assets/./index-abc123.js",
      "/%2e%2e/outside.txt",
      "/%2E%2E/outside.txt",
      "/..%2foutside.txt",
      "/..%2Foutside.txt",
      "/%2e%2e%2foutside.txt",
      "/%252e%252e/outside.txt",
      "/%c0%ae%c0%ae/outside.txt",
      "/%c0%af..%c0%afoutside.txt",
      "/..\\outside.txt",
      "/assets%5c..%5c..%5coutside.txt",
      "/favicon.svg%00.png",
      std::string("/favicon.svg\0.png", 17),
      "/%2fetc%2fpasswd",
      "/%",
      "/%2",
      "/%zz",
      "/" + std::string(5000, 'a'),
      "/escape/outside.txt",
      "/escape-file",
      "/assets/escape-file",
  };
  fs::create_directory_symlink(root.parent_path(), root / "escape");
  fs::create_symlink(outside, root / "escape-file");
  fs::create_symlink(outside, root / "assets" / "escape-file");
  for (const auto& target : attacks) {
    auto result = resolveStatic(root, target);
    EXPECT_FALSE(result) << "served " << result->file << " for " << target;
  }
  fs::remove(root / "escape");
}

TEST_F(StaticFiles, SymlinksInsideTheWebRootStillWork) {
  fs::create_symlink(root / "favicon.svg", root / "icon.svg");
  auto result = resolveStatic(root, "/icon.svg");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->file, fs::canonical(root / "favicon.svg"));
}

TEST_F(StaticFiles, AWebRootThatIsASymlinkWorks) {
  fs::path link = root.parent_path() / ("conclave-web-link-" + std::to_string(::getpid()));
  fs::create_directory_symlink(root, link);
  auto result = resolveStatic(link, "/favicon.svg");
  fs::remove(link);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->file.filename(), "favicon.svg");
}

TEST(Mime, KnownTypes) {
  EXPECT_EQ(mimeType("/a/b.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeType("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mimeType("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mimeType("x.svg"), "image/svg+xml");
  EXPECT_EQ(mimeType("x"), "application/octet-stream");
}
