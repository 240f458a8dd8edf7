// Data subjects' rights for host accounts (GDPR Art. 15, 17, 20), behind `conclave admin
// export-user NAME [--out FILE]` and `conclave admin erase-user NAME --yes`.
//
// The export holds everything the database keeps about the account, as JSON, except credentials'
// secrets and verifiers, which it names under "withheld" with the reason: the password's Argon2id
// hash, the TOTP secret (and one being set up), the hashes of recovery codes and of session tokens,
// and the PIN hashes of the account's rooms' meetings. A copy of the export is as easy to leak as
// any file; with those in it, a leaked export would be a way into the account (or a PIN-protected
// meeting), and none of them says anything about the person that the export does not say already
// (2-step login on or off, how many recovery codes are left, when each session was used).
//
// Erasure deletes the account and what hangs off it (AccountStore::eraseUser): sessions, TOTP,
// recovery codes, the persistent rooms it owns (not transferred: a transfer would keep the room's
// name and settings, chosen by the erased person, under someone who did not ask for them) with the
// rooms' meeting settings and security-log rows, and its moderator seat in others' rooms.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "store/account_store.h"
#include "store/database.h"

namespace conclave::app {

// The export of `username`'s account, or nullopt if there is no such account. `nowMs` dates it.
std::optional<nlohmann::json> exportAccount(const store::Database& db, const std::string& username, int64_t nowMs);

// Erases `username`'s account; nullopt if there is no such account.
std::optional<store::ErasedRows> eraseAccount(const store::Database& db, const std::string& username);

}  // namespace conclave::app
