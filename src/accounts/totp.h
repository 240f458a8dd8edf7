// TOTP (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps, 6 digits, as every
// authenticator app does by default. No I/O, no clock: callers pass the Unix time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::accounts {

inline constexpr int64_t kTotpStepSeconds = 30;

// RFC 4648 base32 without padding (upper case), as otpauth:// URIs carry secrets.
std::string base32Encode(std::span<const uint8_t> data);

// The 6-digit code for time step `step` (RFC 4226 §5.3 dynamic truncation).
std::string totpCode(std::span<const uint8_t> secret, int64_t step);

inline int64_t totpStep(int64_t unixSeconds) { return unixSeconds / kTotpStepSeconds; }

// The step in {now-1, now, now+1} whose code is `code` (the ±1 step allows for clock drift), or
// nullopt. Compares in constant time; a code that is not 6 digits matches nothing.
std::optional<int64_t> matchTotp(std::span<const uint8_t> secret, std::string_view code, int64_t unixSeconds);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string otpauthUri(std::string_view issuer, std::string_view account, std::span<const uint8_t> secret);

}  // namespace conclave::accounts
