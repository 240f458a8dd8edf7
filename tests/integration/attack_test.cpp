// The HTTP front attacked the way issue 7 found it open: the real binary over loopback. Every
// test here failed against the build before the fix it guards.
#include <gtest/gtest.h>

#include <fstream>

#include "server_process.h"

using namespace conclave::testing;
using nlohmann::json;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

namespace {

class HttpAttack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    webRoot = fs::temp_directory_path() / ("conclave-attack-web-" + std::to_string(::getpid()));
    fs::create_directories(webRoot / "assets");
    std::ofstream(webRoot / "index.html") << "<!doctype html><title>Conclave</title>";
    std::ofstream(webRoot / "assets" / "app-1234.js") << "console.log(1)";
  }
  static void TearDownTestSuite() { fs::remove_all(webRoot); }
  static fs::path webRoot;
};
fs::path HttpAttack::webRoot;

}  // namespace

// Finding 1: "GET //etc/passwd" answered 200 with the file, "//<data_dir>/tls/key.pem" the TLS key.
TEST_F(HttpAttack, NoFileOutsideTheWebRootCanBeDownloaded) {
  ServerProcess server({"--web-root", webRoot.string()});
  const std::string data = fs::canonical(server.dataDir()).string();
  ASSERT_TRUE(fs::exists(server.dataDir() / "tls" / "key.pem"));
  fs::create_directory_symlink(server.dataDir(), webRoot / "data-link");
  const std::vector<std::string> targets = {
      "//etc/passwd",
      "///etc/passwd",
      "/" + data + "/tls/key.pem",
      "//" + data + "/tls/key.pem",
      "//" + data + "/conclave.db",
      "/%2fetc%2fpasswd",
      "/..%2f..%2f..%2fetc%2fpasswd",
      "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/assets/../../../../etc/passwd",
      "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
      "/assets/..%5c..%5cetc%5cpasswd",
      "/data-link/tls/key.pem",
      "/data-link/conclave.db",
  };
  for (const auto& target : targets) {
    auto r = httpsRequest(server.port(), http::verb::get, target);
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
    EXPECT_EQ(r.body.find("PRIVATE KEY"), std::string::npos) << target;
  }
  fs::remove(webRoot / "data-link");
  // The client itself is still served.
  EXPECT_EQ(httpsRequest(server.port(), http::verb::get, "/assets/app-1234.js").status, 200u);
  EXPECT_EQ(httpsRequest(server.port(), http::verb::get, "/").status, 200u);
}
