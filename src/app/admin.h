// `conclave admin ...`: the operator's commands on the data directory's database, run while the
// server runs or not (SQLite's WAL and busy timeout let both write).
//
//   user add NAME         password from stdin (first line) or, on a terminal, prompted twice
//   user list | user delete NAME | user reset-2fa NAME
//   export-user NAME [--out FILE]   GDPR Art. 15/20: the account's data as JSON (app/account_rights.h)
//   erase-user NAME --yes           GDPR Art. 17: the account and everything tied to it
//   room list | room delete ROOM_ID
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace conclave::app {

// `args` are the words after "admin". Returns the exit status: 0 done, 1 refused or failed,
// 2 usage error. Output goes to `out`, errors to `err`; the password is read from `in`.
int runAdmin(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, std::FILE* in,
             std::FILE* out, std::FILE* err);

std::string adminHelpText();

}  // namespace conclave::app
