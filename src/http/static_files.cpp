#include "http/static_files.h"

#include <algorithm>
#include <vector>

namespace conclave::http {

namespace {

// Characters a file name of the built client may have; everything else is refused.
bool isNameChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits an absolute URL path into its segments, percent-decoded. Refuses (nullopt) anything
// that is not a plain chain of names: empty segments ("//"), "." and "..", hidden names, encoded
// slashes, backslashes or NUL, malformed or overlong escapes, and absurd lengths.
std::optional<std::vector<std::string>> pathSegments(std::string_view path) {
  constexpr size_t kMaxPath = 1024;
  constexpr size_t kMaxSegments = 16;
  constexpr size_t kMaxSegment = 255;
  if (path.empty() || path[0] != '/' || path.size() > kMaxPath) return std::nullopt;
  std::vector<std::string> segments;
  std::string current;
  auto finish = [&]() {
    if (current.empty() || current[0] == '.' || current.size() > kMaxSegment) return false;
    segments.push_back(std::move(current));
    current.clear();
    return segments.size() <= kMaxSegments;
  };
  for (size_t i = 1; i < path.size(); ++i) {
    char c = path[i];
    if (c == '/') {
      if (!finish()) return std::nullopt;
      continue;
    }
    if (c == '%') {
      int hi = i + 2 < path.size() ? hexValue(path[i + 1]) : -1;
      int lo = hi >= 0 ? hexValue(path[i + 2]) : -1;
      if (lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    // A decoded byte must itself be a plain name character: no encoded '/', '\', NUL or any
    // byte >= 0x80 (which also refuses overlong UTF-8 forms of '.' and '/').
    if (!isNameChar(static_cast<unsigned char>(c))) return std::nullopt;
    current.push_back(c);
  }
  if (!finish()) return std::nullopt;
  return segments;
}

// True if `inner` is `root` or lies below it (both canonical).
bool isWithin(const std::filesystem::path& root, const std::filesystem::path& inner) {
  auto [r, i] = std::mismatch(root.begin(), root.end(), inner.begin(), inner.end());
  return r == root.end();
}

// The canonical form of `file` if it is a regular file under the canonical `root` after
// resolving every symlink; nullopt otherwise.
std::optional<std::filesystem::path> confined(const std::filesystem::path& root, const std::filesystem::path& file) {
  std::error_code ec;
  auto canonicalRoot = std::filesystem::canonical(root, ec);
  if (ec) return std::nullopt;
  auto canonicalFile = std::filesystem::canonical(file, ec);
  if (ec || !isWithin(canonicalRoot, canonicalFile)) return std::nullopt;
  if (!std::filesystem::is_regular_file(canonicalFile, ec)) return std::nullopt;
  return canonicalFile;
}

}  // namespace

std::string_view mimeType(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/x-icon"},
      {"webp", "image/webp"},
      {"woff2", "font/woff2"},
      {"wasm", "application/wasm"},
      {"txt", "text/plain; charset=utf-8"},
      {"webmanifest", "application/manifest+json"},
  };
  for (const auto& e : kTypes)
    if (e.ext == ext) return e.type;
  return "application/octet-stream";
}

std::optional<StaticTarget> resolveStatic(const std::filesystem::path& webRoot, std::string_view target) {
  // The path never carries a query or a fragment into the file system.
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == "/" || path == "/index.html" || path.rfind("/r/", 0) == 0 || path == "/login" || path == "/account" ||
      path == "/privacy") {
    auto index = confined(webRoot, webRoot / "index.html");
    if (!index) return std::nullopt;
    return StaticTarget{*index, false};
  }
  auto segments = pathSegments(path);
  if (!segments) return std::nullopt;
  // Joined segment by segment: none is absolute or "..", and the canonical result (every
  // symlink resolved) must still lie under the web root.
  std::filesystem::path file = webRoot;
  for (const auto& segment : *segments) file /= segment;
  auto resolved = confined(webRoot, file);
  if (!resolved) return std::nullopt;
  return StaticTarget{*resolved, segments->size() > 1 && segments->front() == "assets"};
}

}  // namespace conclave::http
