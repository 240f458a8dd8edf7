// The privacy receipt (issue 12 item 3, docs/privacy.md "The privacy receipt"): what the server
// holds about one meeting at one moment, built from its live state by RoomManager and signed with
// the server's long-term Ed25519 key, so that a participant can keep it as evidence.
//
// Signed form (the `privacy-receipt` message and the downloaded file):
//   {"receipt": {...}, "signature": {"algorithm": "Ed25519", "publicKey": HEX, "fingerprint": HEX,
//    "value": HEX}}
// The signature covers canonicalReceipt(receipt): nlohmann::json's compact dump() of the receipt,
// whose objects keep their keys sorted (byte order), strings in UTF-8 without escaping beyond
// JSON's required ones, integers only (no floating point). A verifier parses the file and
// serializes `receipt` the same way, so whitespace and key order of the file do not matter, and
// any other change does. `publicKey` is the raw 32-byte key and `fingerprint` its SHA-256, both
// lowercase hex; `value` is the 64-byte signature in lowercase hex.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ed25519.h"

namespace conclave::signaling {

inline constexpr std::string_view kReceiptFormat = "conclave-privacy-receipt/1";
// At most this many files are listed one by one (all are counted).
inline constexpr size_t kMaxReceiptFiles = 200;
// Security log entries counted at most (a meeting's log holds 1000 by default).
inline constexpr size_t kMaxReceiptLogEntries = 10000;

// What the receipt states about the configuration, as the server runs with it.
struct ReceiptFacts {
  std::string logLevel = "info";
  bool logIps = false;
  int64_t meetingRetentionDays = 30;
  bool securityLogStored = false;  // in the database (else in memory only)
  int64_t mediaConsentTimeoutSeconds = 30;
};

std::string canonicalReceipt(const nlohmann::json& receipt);
// The signed form above.
nlohmann::json signReceipt(const nlohmann::json& receipt, const common::Ed25519PrivateKey& key);

struct ReceiptCheck {
  bool valid = false;
  std::string message;      // for humans: why it is (not) valid
  std::string fingerprint;  // of the key that signed it, when the file names one
};
// Checks a signed receipt (the file's text): its form, the signature against the key it names,
// and that key against `expected` (when not null) or `expectedFingerprint` (when not empty).
ReceiptCheck verifyReceipt(std::string_view text, const common::Ed25519PublicKey* expected = nullptr,
                           std::string_view expectedFingerprint = {});

}  // namespace conclave::signaling
