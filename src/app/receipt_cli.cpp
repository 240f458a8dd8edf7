#include "app/receipt_cli.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "app/config.h"
#include "signaling/privacy_receipt.h"
#include "store/database.h"

namespace conclave::app {
namespace {

std::optional<std::string> readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr const char* kVerifyUsage =
    "usage: conclave verify-receipt FILE [--public-key FILE | --fingerprint HEX]\n"
    "  Checks the signature of a privacy receipt downloaded from a meeting. With --public-key (the\n"
    "  output of `conclave receipt-public-key`, or 64 hex digits) or --fingerprint (its SHA-256, as\n"
    "  the operator publishes it) it also checks that this server's key signed it.\n";

}  // namespace

common::Ed25519PrivateKey receiptKey(store::KeyStore& keys) {
  return common::Ed25519PrivateKey(keys.getOrCreateKey("receipt-ed25519", common::kEd25519SeedBytes));
}

std::string receiptKeyText(const common::Ed25519PublicKey& key) {
  return "# Conclave privacy receipt key (Ed25519)\n# SHA-256 fingerprint: " + key.fingerprint() + "\n" + key.toPem();
}

nlohmann::json receiptKeyJson(const common::Ed25519PublicKey& key) {
  return {{"algorithm", "Ed25519"},
          {"publicKey", common::toHex(key.raw())},
          {"publicKeyPem", key.toPem()},
          {"fingerprint", key.fingerprint()}};
}

int runReceiptPublicKey(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, FILE* out,
                        FILE* err) {
  ParsedArgs parsed;
  try {
    parsed = parseConfig(args, env);
  } catch (const ConfigError& e) {
    std::fprintf(err, "conclave: invalid configuration: %s\n", e.what());
    return 2;
  }
  store::Database db(parsed.config.dataDir);
  store::KeyStore keys(db);
  std::fputs(receiptKeyText(receiptKey(keys).publicKey()).c_str(), out);
  return 0;
}

int runVerifyReceipt(const std::vector<std::string>& args, FILE* out, FILE* err) {
  std::optional<std::string> file, keyFile, fingerprint;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--public-key" || args[i] == "--fingerprint") && i + 1 < args.size()) {
      (args[i] == "--public-key" ? keyFile : fingerprint) = args[i + 1];
      ++i;
    } else if (!args[i].starts_with("--") && !file) {
      file = args[i];
    } else {
      std::fputs(kVerifyUsage, err);
      return 2;
    }
  }
  if (!file || (keyFile && fingerprint)) {
    std::fputs(kVerifyUsage, err);
    return 2;
  }
  std::optional<common::Ed25519PublicKey> expected;
  if (keyFile) {
    auto text = readWhole(*keyFile);
    if (!text) {
      std::fprintf(err, "conclave: cannot read %s\n", keyFile->c_str());
      return 2;
    }
    expected = common::Ed25519PublicKey::fromPem(*text);
    std::string trimmed = text->substr(0, text->find_first_of("\r\n"));
    if (!expected) {
      if (auto raw = common::fromHex(trimmed)) {
        const std::string& bytes = *raw;
        expected =
            common::Ed25519PublicKey::fromRaw(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
      }
    }
    if (!expected) {
      std::fprintf(err, "conclave: %s holds no Ed25519 public key (PEM or 64 hex digits)\n", keyFile->c_str());
      return 2;
    }
  }
  if (fingerprint && (fingerprint->size() != 64 || !common::fromHex(*fingerprint))) {
    std::fputs("conclave: --fingerprint takes 64 lowercase hex digits (SHA-256)\n", err);
    return 2;
  }
  auto text = readWhole(*file);
  if (!text) {
    std::fprintf(err, "conclave: cannot read %s\n", file->c_str());
    return 1;
  }
  auto check = signaling::verifyReceipt(*text, expected ? &*expected : nullptr, fingerprint.value_or(""));
  if (!check.valid) {
    std::fprintf(err, "%s: NOT VALID: %s\n", file->c_str(), check.message.c_str());
    return 1;
  }
  std::fprintf(out, "%s: %s\n", file->c_str(), check.message.c_str());
  return 0;
}

}  // namespace conclave::app
