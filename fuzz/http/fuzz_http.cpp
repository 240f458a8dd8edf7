// libFuzzer target for HTTP request targets: http::resolveStatic(webRoot, target), which
// maps the path of a GET to a file to serve. The input is the raw request target (path and
// query, any bytes). The target builds a small web root in a fresh temporary directory:
//
//   <tmp>/web/index.html, <tmp>/web/assets/app-1.js, <tmp>/web/sub/page.txt,
//   <tmp>/web/.hidden,
//   <tmp>/web/out -> <tmp>/outside              (directory symlink out of the root)
//   <tmp>/web/assets/secret.js -> <tmp>/outside/secret.txt   (file symlink out of the root)
//   <tmp>/web/sub/inside.txt -> ../index.html     (symlink that stays inside)
//   <tmp>/outside/secret.txt, <tmp>/secret.txt
//   <tmp>/web-link -> <tmp>/web                   (the root as the operator may spell it)
//
// Each input is resolved against <tmp>/web and against <tmp>/web-link. Whatever comes back
// must be a regular file whose canonical path lies under the canonical web root; anything else
// aborts. Seed corpus: traversal spellings (absolute, doubled slashes, "..", percent-encoded,
// double-encoded and overlong UTF-8 forms, backslashes, NUL bytes), long paths, queries.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "http/static_files.h"

namespace {

namespace fs = std::filesystem;
using conclave::http::resolveStatic;

struct WebRoot {
  fs::path base;       // the temporary directory
  fs::path root;       // base/web
  fs::path rootLink;   // base/web-link -> web
  fs::path canonical;  // canonical(root)

  WebRoot() {
    base = fs::temp_directory_path() / ("conclave-fuzz-http-" + std::to_string(::getpid()));
    fs::remove_all(base);
    root = base / "web";
    fs::create_directories(root / "assets");
    fs::create_directories(root / "sub");
    fs::create_directories(base / "outside");
    write(root / "index.html", "<!doctype html>");
    write(root / "assets" / "app-1.js", "1");
    write(root / "sub" / "page.txt", "page");
    write(root / ".hidden", "hidden");
    write(base / "outside" / "secret.txt", "secret");
    write(base / "secret.txt", "secret");
    fs::create_directory_symlink(base / "outside", root / "out");
    fs::create_symlink(base / "outside" / "secret.txt", root / "assets" / "secret.js");
    fs::create_symlink("../index.html", root / "sub" / "inside.txt");
    rootLink = base / "web-link";
    fs::create_directory_symlink(root, rootLink);
    canonical = fs::canonical(root);
  }
  ~WebRoot() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }

  static void write(const fs::path& p, std::string_view text) { std::ofstream(p) << text; }
};

WebRoot* webRoot = nullptr;

[[noreturn]] void fail(const char* what, std::string_view target, const fs::path& file) {
  std::string printable;
  for (unsigned char c : target) {
    char buf[8];
    std::snprintf(buf, sizeof buf, c >= 0x20 && c < 0x7f && c != '\\' ? "%c" : "\\x%02x", c);
    printable += buf;
  }
  std::fprintf(stderr, "fuzz_http: %s: target \"%s\" gave %s\n", what, printable.c_str(), file.c_str());
  delete webRoot;  // abort() skips atexit
  webRoot = nullptr;
  std::abort();
}

bool isUnder(const fs::path& file, const fs::path& root) {
  auto [r, f] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  return r == root.end() && f != file.end();
}

void check(const fs::path& root, std::string_view target) {
  auto result = resolveStatic(root, target);
  if (!result) return;
  std::error_code ec;
  // What the server opens follows symlinks, so the check does too.
  if (!fs::is_regular_file(result->file, ec)) fail("not a regular file", target, result->file);
  fs::path real = fs::canonical(result->file, ec);
  if (ec) fail("no canonical path", target, result->file);
  if (!isUnder(real, webRoot->canonical)) fail("a file outside the web root", target, real);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  webRoot = new WebRoot();
  std::atexit([] { delete webRoot; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view target(reinterpret_cast<const char*>(data), size);
  check(webRoot->root, target);
  check(webRoot->rootLink, target);
  return 0;
}
