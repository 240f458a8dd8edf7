// HTTP pieces that need no socket: security headers, MIME types, mapping request paths to files.
#pragma once

#include <boost/beast/http.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace conclave::http {

namespace http = boost::beast::http;

// The headers every response carries (docs/protocol.md, "HTTP endpoints").
template <typename Fields>
void setSecurityHeaders(Fields& fields) {
  fields.set("Content-Security-Policy",
             "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
             "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; font-src 'self'; "
             "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  fields.set("Strict-Transport-Security", "max-age=63072000");
  fields.set("X-Content-Type-Options", "nosniff");
  fields.set("Referrer-Policy", "no-referrer");
  fields.set("Permissions-Policy",
             "camera=(self), microphone=(self), display-capture=(self), geolocation=(), "
             "interest-cohort=(), browsing-topics=()");
  fields.set("X-Frame-Options", "DENY");
  fields.set("Cross-Origin-Opener-Policy", "same-origin");
  fields.set("Cross-Origin-Resource-Policy", "same-origin");
}

std::string_view mimeType(std::string_view path);

struct StaticTarget {
  std::filesystem::path file;
  bool immutable;  // content-hashed asset: cache for a year
};

// Maps a request target (path and query) to a file under `webRoot`: "/" and "/r/..." give
// index.html, other paths the file of that name. nullopt for anything unsafe or absent.
std::optional<StaticTarget> resolveStatic(const std::filesystem::path& webRoot, std::string_view target);

}  // namespace conclave::http
