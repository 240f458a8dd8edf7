// The client manifest and the client hash (docs/security.md, "Verifying the client").
//
// web/scripts/client-integrity.ts writes client-manifest.json into the built client: every file
// with its SHA-256, and the client hash, the SHA-256 of the `sha256sum`-style list
// "<64 hex>  <path>\n" sorted bytewise by path, the manifest itself left out. This side computes
// the same hash over the files the server really serves (never trusting the manifest) and parses
// a manifest fetched from a server (hostile input: sizes, names and digests are checked).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::http {

inline constexpr std::string_view kClientManifestName = "client-manifest.json";
// More files than this in a web root (or a manifest) is not a built client.
inline constexpr size_t kMaxClientFiles = 4096;

struct ClientFile {
  std::string path;    // relative, '/'-separated, e.g. "assets/index-abc.js"
  std::string sha256;  // 64 lower-case hex digits
};

struct ClientDigest {
  std::vector<ClientFile> files;  // sorted by path
  std::string clientHash;         // 64 lower-case hex digits
};

std::string sha256Hex(std::string_view bytes);

// The client hash of `files` (sorted here, whatever their order).
std::string clientHash(std::vector<ClientFile> files);

// Every file a GET of "/<path>" would serve from `webRoot` (resolveStatic decides: servable names,
// symbolic links confined to the root), hashed from disk; the manifest is left out. nullopt with
// `error` set when the root cannot be read or holds more than kMaxClientFiles files.
std::optional<ClientDigest> digestWebRoot(const std::filesystem::path& webRoot, std::string* error);

// A path a manifest may name: 1 to 16 segments of the characters the server serves, none
// starting with '.', and not the manifest itself.
bool validManifestPath(std::string_view path);

// client-manifest.json's text, checked: format, at most kMaxClientFiles entries, valid distinct
// paths, 64-hex digests, and a clientHash field (its value is not trusted: compare it with
// clientHash(files)). nullopt with `error` set otherwise.
std::optional<ClientDigest> parseClientManifest(std::string_view text, std::string* error);

// The digest of what a web root serves now, recomputed when older than `maxAge` (GET
// /api/client-hash: a client deployed without a restart is seen within that time, and a flood of
// requests hashes the files at most once per `maxAge`).
class ClientDigestCache {
 public:
  ClientDigestCache(std::filesystem::path webRoot, std::chrono::steady_clock::duration maxAge)
      : mWebRoot(std::move(webRoot)), mMaxAge(maxAge) {}
  // The digest, or nullopt with error() saying why.
  const std::optional<ClientDigest>& get(std::chrono::steady_clock::time_point now);
  const std::string& error() const { return mError; }

 private:
  std::filesystem::path mWebRoot;
  std::chrono::steady_clock::duration mMaxAge;
  std::optional<std::chrono::steady_clock::time_point> mComputedAt;
  std::optional<ClientDigest> mDigest;
  std::string mError;
};

}  // namespace conclave::http
