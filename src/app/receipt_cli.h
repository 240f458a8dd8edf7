// The privacy receipt on the command line: `conclave receipt-public-key` prints the key receipts
// are signed with (for the operator to publish), `conclave verify-receipt FILE` checks one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/ed25519.h"
#include "store/key_store.h"

namespace conclave::app {

// The server's long-term receipt key: a 32-byte Ed25519 seed in the key store (conclave.db in the
// data directory, mode 0600), made the first time it is needed.
common::Ed25519PrivateKey receiptKey(store::KeyStore& keys);
// The fingerprint as comment lines, then the PEM block (what receipt-public-key prints).
std::string receiptKeyText(const common::Ed25519PublicKey& key);
// What GET /api/receipt-key answers: {"algorithm", "publicKey" (hex), "publicKeyPem", "fingerprint"}.
nlohmann::json receiptKeyJson(const common::Ed25519PublicKey& key);

// `conclave receipt-public-key [config flags]`: the PEM block, preceded by comment lines with the
// fingerprint. Exit 0, or 2 for a bad configuration.
int runReceiptPublicKey(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, FILE* out,
                        FILE* err);
// `conclave verify-receipt FILE [--public-key FILE | --fingerprint HEX]`: 0 valid, 1 not valid
// (or unreadable), 2 bad usage. Says why on `out` (valid) or `err`.
int runVerifyReceipt(const std::vector<std::string>& args, FILE* out, FILE* err);

}  // namespace conclave::app
