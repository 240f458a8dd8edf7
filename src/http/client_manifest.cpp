#include "http/client_manifest.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>
#include <set>

#include "http/static_files.h"

namespace conclave::http {
namespace {

constexpr size_t kMaxDepth = 16;

std::string hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256 of a file's bytes, read in blocks; nullopt if it cannot be read.
std::optional<std::string> sha256File(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
  std::array<char, 64 * 1024> block{};
  while (in) {
    in.read(block.data(), block.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), block.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &length);
  return hex(digest.data(), length);
}

bool isHex64(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

void sortByPath(std::vector<ClientFile>& files) {
  // std::string compares as unsigned bytes (char_traits<char>::compare is memcmp-like), as `LC_ALL=C sort`.
  std::sort(files.begin(), files.end(), [](const ClientFile& a, const ClientFile& b) { return a.path < b.path; });
}

}  // namespace

std::string sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return hex(digest.data(), length);
}

std::string clientHash(std::vector<ClientFile> files) {
  sortByPath(files);
  std::string list;
  for (const auto& f : files) list += f.sha256 + "  " + f.path + "\n";
  return sha256Hex(list);
}

bool validManifestPath(std::string_view path) {
  if (path.empty() || path.size() > 1024 || path == kClientManifestName) return false;
  size_t segments = 0;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment.front() == '.' || segment.size() > 255 || ++segments > kMaxDepth) return false;
    if (!std::all_of(segment.begin(), segment.end(), isNameChar)) return false;
    start = end + 1;
  }
  return true;
}

std::optional<ClientDigest> digestWebRoot(const std::filesystem::path& webRoot, std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  ClientDigest digest;
  auto it = fs::recursive_directory_iterator(webRoot, fs::directory_options::follow_directory_symlink, ec);
  if (ec) {
    *error = "cannot read " + webRoot.string() + ": " + ec.message();
    return std::nullopt;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string name = it->path().filename().string();
    // What the server cannot serve is neither walked into nor counted.
    if (name.empty() || name.front() == '.' || it.depth() >= static_cast<int>(kMaxDepth)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec)) continue;
    std::string path = it->path().lexically_relative(webRoot).generic_string();
    if (path == kClientManifestName || !validManifestPath(path)) continue;
    auto served = resolveStatic(webRoot, "/" + path);
    if (!served) continue;
    if (digest.files.size() == kMaxClientFiles) {
      *error = webRoot.string() + " holds more than " + std::to_string(kMaxClientFiles) + " files";
      return std::nullopt;
    }
    auto sha = sha256File(served->file);
    if (!sha) {
      *error = "cannot read " + served->file.string();
      return std::nullopt;
    }
    digest.files.push_back({std::move(path), std::move(*sha)});
  }
  if (ec) {
    *error = "cannot read " + webRoot.string() + ": " + ec.message();
    return std::nullopt;
  }
  sortByPath(digest.files);
  digest.clientHash = clientHash(digest.files);
  return digest;
}

std::optional<ClientDigest> parseClientManifest(std::string_view text, std::string* error) {
  auto fail = [error](std::string why) -> std::optional<ClientDigest> {
    *error = std::move(why);
    return std::nullopt;
  };
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return fail("the manifest is not a JSON object");
  auto format = json.find("format");
  if (format == json.end() || *format != "conclave-client-manifest/1")
    return fail("the manifest's format is not conclave-client-manifest/1");
  auto files = json.find("files");
  auto hash = json.find("clientHash");
  if (files == json.end() || !files->is_array()) return fail("the manifest has no list of files");
  if (files->size() > kMaxClientFiles) return fail("the manifest lists more than 4096 files");
  if (hash == json.end() || !hash->is_string() || !isHex64(hash->get<std::string>()))
    return fail("the manifest's clientHash is not 64 hex digits");
  ClientDigest digest;
  std::set<std::string> seen;
  for (const auto& entry : *files) {
    if (!entry.is_object() || !entry.contains("path") || !entry.contains("sha256") || !entry["path"].is_string() ||
        !entry["sha256"].is_string())
      return fail("a manifest entry is not {path, sha256}");
    std::string path = entry["path"].get<std::string>();
    std::string sha = entry["sha256"].get<std::string>();
    if (!validManifestPath(path))
      return fail("the manifest names a path the server cannot serve: " + path.substr(0, 80));
    if (!isHex64(sha)) return fail("the manifest's digest of " + path + " is not 64 hex digits");
    if (!seen.insert(path).second) return fail("the manifest names " + path + " twice");
    digest.files.push_back({std::move(path), std::move(sha)});
  }
  sortByPath(digest.files);
  digest.clientHash = hash->get<std::string>();
  return digest;
}

const std::optional<ClientDigest>& ClientDigestCache::get(std::chrono::steady_clock::time_point now) {
  if (!mComputedAt || now - *mComputedAt >= mMaxAge) {
    mError.clear();
    mDigest = digestWebRoot(mWebRoot, &mError);
    mComputedAt = now;
  }
  return mDigest;
}

}  // namespace conclave::http
