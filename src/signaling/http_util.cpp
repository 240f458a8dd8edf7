#include "signaling/http_util.h"

namespace conclave::signaling {

std::string_view mimeType(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {"html", "text/html; charset=utf-8"},  {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"}, {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},          {"map", "application/json"},
      {"svg", "image/svg+xml"},              {"png", "image/png"},
      {"ico", "image/x-icon"},               {"webp", "image/webp"},
      {"woff2", "font/woff2"},               {"wasm", "application/wasm"},
      {"txt", "text/plain; charset=utf-8"},  {"webmanifest", "application/manifest+json"},
  };
  for (const auto& e : kTypes)
    if (e.ext == ext) return e.type;
  return "application/octet-stream";
}

std::optional<StaticTarget> resolveStatic(const std::filesystem::path& webRoot, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path[0] != '/') return std::nullopt;
  if (path == "/" || path == "/index.html" || path.rfind("/r/", 0) == 0)
    return StaticTarget{webRoot / "index.html", false};
  // Only plain relative names: no "..", no hidden files, no escapes, no backslashes.
  std::string_view rel = path.substr(1);
  for (char c : rel) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == '/';
    if (!ok) return std::nullopt;
  }
  if (rel.find("..") != std::string_view::npos || rel.find("/.") != std::string_view::npos || rel.empty() ||
      rel[0] == '.' || rel.back() == '/')
    return std::nullopt;
  auto file = webRoot / std::filesystem::path(rel);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  return StaticTarget{file, rel.rfind("assets/", 0) == 0};
}

}  // namespace conclave::signaling
