#include "app/admin.h"

#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "accounts/account_service.h"
#include "app/account_rights.h"
#include "app/config.h"
#include "common/wall_clock.h"
#include "signaling/room_id.h"
#include "store/account_store.h"
#include "store/database.h"
#include "store/key_store.h"

namespace conclave::app {
namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string readLine(std::FILE* in) {
  std::string line;
  int c;
  while ((c = std::fgetc(in)) != EOF && c != '\n') line += static_cast<char>(c);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A password: on a terminal prompted without echo (twice), else the first line of `in`.
std::optional<std::string> readPassword(std::FILE* in, std::FILE* err, const std::string& username) {
  int fd = ::fileno(in);
  if (!::isatty(fd)) return readLine(in);
  termios old{};
  ::tcgetattr(fd, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  std::fprintf(err, "Password for %s: ", username.c_str());
  std::fflush(err);
  std::string first = readLine(in);
  std::fprintf(err, "\nRepeat it: ");
  std::fflush(err);
  std::string second = readLine(in);
  std::fprintf(err, "\n");
  ::tcsetattr(fd, TCSAFLUSH, &old);
  if (first != second) {
    std::fprintf(err, "conclave admin: the passwords differ\n");
    return std::nullopt;
  }
  return first;
}

// `export-user NAME [--out FILE]`: the JSON to FILE (created readable by its owner only) or `out`.
int exportUser(const store::Database& db, const std::string& name, const std::string& outFile, std::FILE* out,
               std::FILE* err) {
  auto exported = exportAccount(db, name, nowMs());
  if (!exported) {
    std::fprintf(err, "conclave admin: no user %s\n", name.c_str());
    return 1;
  }
  std::string text = exported->dump(2) + "\n";
  if (outFile.empty()) {
    std::fputs(text.c_str(), out);
    return 0;
  }
  {
    std::ofstream file(outFile, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::fprintf(err, "conclave admin: cannot write %s\n", outFile.c_str());
      return 1;
    }
    std::filesystem::permissions(outFile, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    file << text;
    if (!file.flush()) {
      std::fprintf(err, "conclave admin: cannot write %s\n", outFile.c_str());
      return 1;
    }
  }
  std::fprintf(out, "wrote the data of %s to %s\n", name.c_str(), outFile.c_str());
  return 0;
}

// `erase-user NAME --yes`: without --yes, says what would go and changes nothing.
int eraseUser(const store::Database& db, const std::string& name, bool confirmed, std::FILE* out, std::FILE* err) {
  store::AccountStore accounts(db);
  auto user = accounts.findUser(name);
  if (!user) {
    std::fprintf(err, "conclave admin: no user %s\n", name.c_str());
    return 1;
  }
  if (!confirmed) {
    std::fprintf(err,
                 "conclave admin: erase-user deletes %s with %zu sessions and %zu persistent rooms (with their meeting "
                 "settings and security log) for good; run it again with --yes\n",
                 user->username.c_str(), accounts.sessionsOf(user->id).size(), accounts.roomCountOf(user->id));
    return 1;
  }
  auto erased = eraseAccount(db, user->username);
  if (!erased) {
    std::fprintf(err, "conclave admin: no user %s\n", name.c_str());
    return 1;
  }
  std::fprintf(out,
               "erased user %s: %zu sessions, %zu recovery codes, %zu persistent rooms (%zu meeting records, %zu "
               "security log entries), %zu moderator seats\n",
               user->username.c_str(), erased->sessions, erased->recoveryCodes, erased->roomsOwned, erased->meetings,
               erased->securityLog, erased->moderatorships);
  return 0;
}

}  // namespace

std::string adminHelpText() {
  return "Usage: conclave admin [--config FILE] [--data-dir DIR] COMMAND\n\n"
         "Commands (on the database in the data directory; the server may be running):\n"
         "  user add NAME         create an account; the password is read from stdin (first line),\n"
         "                        or prompted without echo on a terminal\n"
         "  user list             list accounts: name, 2-step login, created, rooms\n"
         "  user delete NAME      delete an account with its sessions and persistent rooms\n"
         "  user reset-2fa NAME   turn 2-step login off for an account (and drop its recovery codes)\n"
         "  room list             list persistent rooms: ID, owner, moderators, name\n"
         "  room delete ROOM_ID   delete a persistent room\n"
         "  export-user NAME [--out FILE]\n"
         "                        everything kept about an account, as JSON (GDPR Art. 15/20); credentials'\n"
         "                        secrets and hashes are withheld (the export names them and says why)\n"
         "  erase-user NAME --yes delete an account and everything tied to it (GDPR Art. 17): sessions,\n"
         "                        2-step login, recovery codes, the persistent rooms it owns with their\n"
         "                        meeting settings and security log, its moderator seats; without --yes\n"
         "                        it only says what would go\n";
}

int runAdmin(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, std::FILE* in,
             std::FILE* out, std::FILE* err) {
  // Options (--key value or --key=value) go to the configuration; the rest is the command.
  std::vector<std::string> options, words;
  bool confirmed = false;
  std::string outFile;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--yes") {
      confirmed = true;
      continue;
    }
    if (args[i] == "--out" && i + 1 < args.size()) {
      outFile = args[++i];
      continue;
    }
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(adminHelpText().c_str(), out);
      return 0;
    }
    if (args[i].rfind("--", 0) == 0) {
      options.push_back(args[i]);
      if (args[i].find('=') == std::string::npos && i + 1 < args.size()) options.push_back(args[++i]);
    } else {
      words.push_back(args[i]);
    }
  }
  Config config;
  try {
    config = parseConfig(options, env).config;
  } catch (const ConfigError& e) {
    std::fprintf(err, "conclave admin: invalid configuration: %s\n", e.what());
    return 2;
  }
  auto usage = [&] {
    std::fputs(adminHelpText().c_str(), err);
    return 2;
  };
  if (words.size() == 2 && (words[0] == "export-user" || words[0] == "erase-user")) {
    store::Database db(config.dataDir);
    return words[0] == "export-user" ? exportUser(db, words[1], outFile, out, err)
                                     : eraseUser(db, words[1], confirmed, out, err);
  }
  if (words.size() < 2) return usage();
  const std::string& noun = words[0];
  const std::string& verb = words[1];
  bool needsName = !(verb == "list");
  if ((needsName && words.size() != 3) || (!needsName && words.size() != 2)) return usage();

  store::Database db(config.dataDir);
  store::KeyStore keys(db);
  store::AccountStore accountStore(db);
  signaling::RoomIdIssuer issuer(keys.getOrCreateKey("room-id", 32));
  accounts::AccountService service(
      accountStore, keys.getOrCreateKey("host-token", 32), keys.getOrCreateKey("csrf", 32),
      [&issuer] { return issuer.issue(); }, accounts::AccountSettings{},
      [](const std::function<void()>& work, const std::function<void()>& then) {
        work();
        then();
      },
      nowMs);

  if (noun == "user" && verb == "add") {
    const std::string& name = words[2];
    if (!accounts::AccountService::validUsername(name)) {
      std::fprintf(err, "conclave admin: a username has 1 to 64 letters, digits and . _ - @\n");
      return 1;
    }
    if (accountStore.findUser(name)) {
      std::fprintf(err, "conclave admin: user %s exists already\n", name.c_str());
      return 1;
    }
    auto password = readPassword(in, err, name);
    if (!password) return 1;
    auto r = service.addUser(name, *password);
    if (!r) {
      std::fprintf(err, "conclave admin: %s\n", r.error().message.c_str());
      return 1;
    }
    std::fprintf(out, "created user %s\n", name.c_str());
    return 0;
  }
  if (noun == "user" && verb == "list") {
    for (const auto& u : accountStore.listUsers())
      std::fprintf(out, "%s\t2-step %s\tcreated %s\trooms %zu\n", u.username.c_str(),
                   u.totpSecret.empty() ? "off" : "on", common::isoUtc(u.created).c_str(),
                   accountStore.roomCountOf(u.id));
    return 0;
  }
  if (noun == "user" && verb == "delete") {
    auto user = accountStore.findUser(words[2]);
    if (!user) {
      std::fprintf(err, "conclave admin: no user %s\n", words[2].c_str());
      return 1;
    }
    auto erased = accountStore.eraseUser(user->id);
    std::fprintf(out, "deleted user %s and %zu persistent rooms\n", user->username.c_str(), erased.roomsOwned);
    return 0;
  }
  if (noun == "user" && verb == "reset-2fa") {
    if (!service.resetTotp(words[2])) {
      std::fprintf(err, "conclave admin: no user %s\n", words[2].c_str());
      return 1;
    }
    std::fprintf(out, "2-step login is off for %s; they can set it up again after signing in\n", words[2].c_str());
    return 0;
  }
  if (noun == "room" && verb == "list") {
    for (const auto& r : accountStore.listRooms()) {
      std::string moderators;
      for (const auto& m : r.moderators) moderators += (moderators.empty() ? "" : ",") + m;
      std::fprintf(out, "%s\towner %s\tmoderators %s\t%s\n", r.roomId.c_str(), r.owner.c_str(),
                   moderators.empty() ? "-" : moderators.c_str(), r.name.c_str());
    }
    return 0;
  }
  if (noun == "room" && verb == "delete") {
    if (!accountStore.deleteRoom(words[2])) {
      std::fprintf(err, "conclave admin: no persistent room %s\n", words[2].c_str());
      return 1;
    }
    std::fprintf(out, "deleted room %s\n", words[2].c_str());
    return 0;
  }
  return usage();
}

}  // namespace conclave::app
