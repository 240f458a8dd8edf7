// Time-limited TURN credentials for a TURN server that shares a secret with Conclave (the "TURN
// REST API" scheme, draft-uberti-behave-turn-rest-00; coturn's `use-auth-secret` with
// `static-auth-secret`):
//
//   username   = "<expiry as seconds since 1970>:<opaque id>"
//   credential = base64(HMAC-SHA1(secret, username))      (standard base64, with padding)
//
// The TURN server recomputes the credential from the username and refuses it after the expiry;
// it never learns who asked. The opaque id is random for every issue (not the participant's name
// or ID), so the TURN server can neither name a user nor link two credentials to one.
//
// The secret never leaves the server. Nothing here does I/O: the wall clock is a parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::signaling {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct TurnSettings {
  // turn:/turns: URLs the browser may use, e.g. "turn:turn.example.org:3478?transport=udp".
  std::vector<std::string> urls;
  std::string secret;
  std::chrono::seconds lifetime{86400};
};

// One credential as the client receives it (an RTCIceServer), with how long it stays valid.
struct TurnCredential {
  std::vector<std::string> urls;
  std::string username;
  std::string credential;
  std::chrono::seconds ttl{0};
};

// base64(HMAC-SHA1(secret, username)), what the TURN server expects as the password.
std::string turnPassword(std::string_view secret, std::string_view username);

// True for a URL a browser takes as a TURN server: "turn:" or "turns:", a host, nothing that
// would break the JSON or the URL (no spaces or control characters), at most 256 bytes.
bool isTurnUrl(std::string_view url);

class TurnIssuer {
 public:
  // `settings.urls` and `settings.secret` must not be empty (see enabled configuration in main).
  explicit TurnIssuer(TurnSettings settings, WallClock clock = &std::chrono::system_clock::now);

  // A new credential valid from now for the configured lifetime.
  TurnCredential issue() const;

  std::chrono::seconds lifetime() const { return mSettings.lifetime; }

 private:
  TurnSettings mSettings;
  WallClock mClock;
};

}  // namespace conclave::signaling
