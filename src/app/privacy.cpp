#include "app/privacy.h"

#include <algorithm>
#include <sstream>

namespace conclave::app {
namespace {

struct Lang {
  NoticeLanguage language;
  std::string operator()(std::string_view en, std::string_view de) const {
    return std::string(language == NoticeLanguage::German ? de : en);
  }
};

std::string missing(const Lang& t, std::string_view key) {
  return t("[MISSING: the operator has not set ", "[FEHLT: der Betreiber hat ") + std::string(key) +
         t(" yet]", " noch nicht angegeben]");
}

std::string orMissing(const Lang& t, const std::string& value, std::string_view key) {
  return value.empty() ? missing(t, key) : value;
}

std::string count(const Lang& t, int n, std::string_view oneEn, std::string_view manyEn, std::string_view oneDe,
                  std::string_view manyDe) {
  return std::to_string(n) + " " + (n == 1 ? t(oneEn, oneDe) : t(manyEn, manyDe));
}

std::string days(const Lang& t, int n) { return count(t, n, "day", "days", "Tag", "Tage"); }

std::string seconds(const Lang& t, int n) {
  if (n > 0 && n % 86400 == 0) return days(t, n / 86400);
  if (n > 0 && n % 3600 == 0) return count(t, n / 3600, "hour", "hours", "Stunde", "Stunden");
  if (n > 0 && n % 60 == 0) return count(t, n / 60, "minute", "minutes", "Minute", "Minuten");
  return count(t, n, "second", "seconds", "Sekunde", "Sekunden");
}

// The host names of the TURN URLs (turn:host:port?transport=udp, turns:[v6]:443).
std::vector<std::string> turnHosts(const Config& config) {
  std::vector<std::string> hosts;
  for (const auto& url : turnUrlList(config)) {
    auto colon = url.find(':');
    if (colon == std::string::npos) continue;
    std::string rest = url.substr(colon + 1);
    rest = rest.substr(0, rest.find('?'));
    std::string host;
    if (!rest.empty() && rest[0] == '[') {
      host = rest.substr(0, rest.find(']') + 1);
    } else {
      host = rest.substr(0, rest.find(':'));
    }
    if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  }
  return hosts;
}

// Characters, not bytes: the German texts have umlauts.
size_t textWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string fileRetention(const Lang& t, const Config& config) {
  if (config.maxFileMegabytes == 0)
    return t("File sharing is switched off on this server.",
             "Das Teilen von Dateien ist auf diesem Server abgeschaltet.");
  std::string kept = config.fileRetentionSeconds == 0
                         ? t("until the meeting ends", "bis die Besprechung endet")
                         : t("for ", "für ") + seconds(t, config.fileRetentionSeconds) +
                               t(" after the upload, and no longer than the meeting",
                                 " nach dem Hochladen, höchstens bis die Besprechung endet");
  return t("Shared files: stored on the server encrypted end-to-end (the server holds no key to read them), at "
           "most ",
           "Geteilte Dateien: auf dem Server Ende-zu-Ende-verschlüsselt gespeichert (der Server hat keinen "
           "Schlüssel, um sie zu lesen), höchstens ") +
         std::to_string(config.maxFileMegabytes) + t(" MiB each, kept ", " MiB je Datei, aufbewahrt ") + kept +
         t(". On the disk they are encrypted once more with a key of the meeting that exists only in the server's "
           "memory and is destroyed with the meeting's last file; after a restart nothing left on the disk is "
           "readable, and it is removed at start.",
           ". Auf der Festplatte sind sie zusätzlich mit einem Schlüssel der Besprechung verschlüsselt, der nur im "
           "Arbeitsspeicher des Servers existiert und mit der letzten Datei der Besprechung vernichtet wird; nach "
           "einem Neustart ist nichts auf der Festplatte Verbliebene lesbar, und es wird beim Start gelöscht.");
}

std::string logging(const Lang& t, const Config& config) {
  std::string text = t("Server log (level \"", "Server-Protokoll (Stufe \"") + config.logLevel + "\"): ";
  text += config.logIps ? t("it includes the IP addresses of clients (log_ips is on). ",
                            "es enthält die IP-Adressen der Clients (log_ips ist eingeschaltet). ")
                        : t("it contains no IP addresses, no names and no content; rooms appear by a short "
                            "pseudonym. ",
                            "es enthält keine IP-Adressen, keine Namen und keine Inhalte; Räume erscheinen nur "
                            "unter einem kurzen Pseudonym. ");
  text += t("How long the log is kept is decided by the operator's system logging (journald, logrotate).",
            "Wie lange das Protokoll aufbewahrt wird, bestimmt die Systemprotokollierung des Betreibers "
            "(journald, logrotate).");
  return text;
}

}  // namespace

std::vector<std::string> missingPrivacySettings(const Config& config) {
  std::vector<std::string> keys;
  const std::pair<const std::string*, const char*> settings[] = {
      {&config.privacyController, "privacy_controller"},
      {&config.privacyContact, "privacy_contact"},
      {&config.privacyDpo, "privacy_dpo"},
      {&config.privacyLegalBasis, "privacy_legal_basis"},
      {&config.privacySupervisoryAuthority, "privacy_supervisory_authority"},
  };
  for (const auto& [value, key] : settings)
    if (value->empty()) keys.emplace_back(key);
  return keys;
}

std::vector<NoticeSection> privacyNotice(const Config& config, NoticeLanguage language) {
  const Lang t{language};
  std::vector<NoticeSection> out;
  out.push_back({t("Who is responsible", "Verantwortlicher"),
                 {orMissing(t, config.privacyController, "privacy_controller"),
                  t("Contact for data protection: ", "Kontakt für Datenschutzfragen: ") +
                      orMissing(t, config.privacyContact, "privacy_contact"),
                  t("Data protection officer: ", "Datenschutzbeauftragte(r): ") +
                      orMissing(t, config.privacyDpo, "privacy_dpo")}});

  out.push_back(
      {t("Purpose and legal basis", "Zweck und Rechtsgrundlage"),
       {t("This server runs Conclave to hold video meetings: it connects the participants of a meeting and "
          "forwards their audio, video, chat and files between them. It uses the data below only for that "
          "and to protect the service against abuse.",
          "Dieser Server betreibt Conclave für Videobesprechungen: er verbindet die Teilnehmenden einer "
          "Besprechung und leitet Ton, Bild, Chat und Dateien zwischen ihnen weiter. Er nutzt die unten "
          "genannten Daten nur dafür und zum Schutz des Dienstes vor Missbrauch."),
        t("Legal basis: ", "Rechtsgrundlage: ") + orMissing(t, config.privacyLegalBasis, "privacy_legal_basis")}});

  std::vector<std::string> processed = {
      t("Audio, video, chat messages, shared files and your display name are encrypted end-to-end in the "
        "browsers. The server forwards and stores only ciphertext; it has no key to read them.",
        "Ton, Bild, Chatnachrichten, geteilte Dateien und Ihr Anzeigename werden in den Browsern "
        "Ende-zu-Ende-verschlüsselt. Der Server leitet nur Chiffretext weiter und speichert nur Chiffretext; "
        "er hat keinen Schlüssel, um sie zu lesen."),
      t("Your IP address and port: needed to deliver the meeting to you. Held in memory only, while you are "
        "connected; never written to disk",
        "Ihre IP-Adresse und Ihr Port: nötig, um Ihnen die Besprechung zuzustellen. Nur im Arbeitsspeicher, "
        "solange Sie verbunden sind; nie auf die Festplatte geschrieben") +
          (config.logIps ? t(" except in the server log (see below).", " außer im Server-Protokoll (siehe unten).")
                         : "."),
      t("A pseudonymous participant ID for each time you join, and the room a meeting uses: in memory while "
        "the meeting runs and for ",
        "Eine pseudonyme Teilnehmer-ID für jede Teilnahme und der Raum der Besprechung: im Arbeitsspeicher, "
        "solange die Besprechung läuft, und ") +
          seconds(t, config.roomGraceSeconds) +
          t(" after the last person left.", " nachdem die letzte Person gegangen ist."),
      t("Protection against abuse: counters of join and PIN attempts and removals, keyed by a salted hash "
        "of your network that changes daily (never the address itself), in memory only.",
        "Schutz vor Missbrauch: Zähler für Beitritts- und PIN-Versuche und Entfernungen, zugeordnet über "
        "einen täglich wechselnden gesalzenen Hash Ihres Netzes (nie die Adresse selbst), nur im "
        "Arbeitsspeicher."),
      fileRetention(t, config),
      t("Security event log of each meeting (joined, left, admitted, removed, settings changed; by "
        "participant ID, no names, no addresses): readable by the meeting's hosts, kept for ",
        "Sicherheitsprotokoll jeder Besprechung (beigetreten, gegangen, eingelassen, entfernt, Einstellungen "
        "geändert; nach Teilnehmer-ID, ohne Namen und Adressen): für die Gastgeber lesbar, aufbewahrt für ") +
          days(t, config.securityLogRetentionDays) + ".",
      t("Meeting settings chosen by the hosts (lock, lobby, policies, a PIN's hash): kept for ",
        "Von den Gastgebern gewählte Einstellungen (Sperre, Warteraum, Regeln, Hash einer PIN): aufbewahrt für ") +
          days(t, config.meetingRetentionDays) +
          t(" after the meeting was last used.", " nach der letzten Nutzung der Besprechung."),
      t("Host accounts (optional; joining never needs one): user name, password hash (Argon2id), the "
        "second factor if switched on, login sessions and permanent rooms; kept until the account is "
        "deleted, except login sessions, which end 12 hours after their last use and at the latest after "
        "7 days. Signed-in hosts get one cookie, the login session (HttpOnly, SameSite=Strict); Conclave "
        "sets no other cookie.",
        "Gastgeber-Konten (freiwillig; zum Teilnehmen nie nötig): Benutzername, Passwort-Hash (Argon2id), "
        "der zweite Faktor falls eingeschaltet, Anmeldesitzungen und dauerhafte Räume; aufbewahrt, bis das "
        "Konto gelöscht wird, außer Anmeldesitzungen: sie enden 12 Stunden nach ihrer letzten Nutzung, "
        "spätestens nach 7 Tagen. Angemeldete Gastgeber erhalten ein Cookie, die Anmeldesitzung (HttpOnly, "
        "SameSite=Strict); Conclave setzt kein anderes Cookie."),
      logging(t, config),
  };
  out.push_back({t("What is processed and for how long", "Was verarbeitet wird und wie lange"), processed});

  std::vector<std::string> recipients;
  auto hosts = turnHosts(config);
  if (hosts.empty() && config.privacyRecipients.empty()) {
    recipients.push_back(
        t("None. Nothing is sent to third parties: no analytics, no content delivery network, no "
          "external fonts or pictures.",
          "Keine. Nichts wird an Dritte übermittelt: keine Analyse, kein Content-Delivery-Netz, "
          "keine externen Schriften oder Bilder."));
  } else {
    recipients.push_back(t("No analytics, no content delivery network, no external fonts or pictures.",
                           "Keine Analyse, kein Content-Delivery-Netz, keine externen Schriften oder Bilder."));
    if (!hosts.empty())
      recipients.push_back(
          t("Relay servers (TURN) at ", "Relay-Server (TURN) unter ") + join(hosts) +
          t(": when a network blocks direct connections, your encrypted media passes through them; they see "
            "your IP address, not the content.",
            ": wenn ein Netz direkte Verbindungen verhindert, läuft Ihr verschlüsselter Medienstrom über sie; sie "
            "sehen Ihre IP-Adresse, nicht den Inhalt."));
    if (!config.privacyRecipients.empty()) recipients.push_back(config.privacyRecipients);
  }
  out.push_back({t("Recipients", "Empfänger"), recipients});

  out.push_back(
      {t("Your rights", "Ihre Rechte"),
       {t("You have the right of access (Art. 15 GDPR), rectification (Art. 16), erasure (Art. 17), "
          "restriction of processing (Art. 18), data portability (Art. 20) and to object (Art. 21). Most data "
          "above exists only while you are in a meeting and is not linked to your name. Write to the contact "
          "above.",
          "Sie haben das Recht auf Auskunft (Art. 15 DSGVO), Berichtigung (Art. 16), Löschung (Art. 17), "
          "Einschränkung der Verarbeitung (Art. 18), Datenübertragbarkeit (Art. 20) und Widerspruch (Art. 21). "
          "Die meisten der obigen Daten bestehen nur, solange Sie in einer Besprechung sind, und sind nicht mit "
          "Ihrem Namen verknüpft. Schreiben Sie an den obigen Kontakt."),
        t("You may lodge a complaint with a supervisory authority (Art. 77 GDPR): ",
          "Sie können sich bei einer Aufsichtsbehörde beschweren (Art. 77 DSGVO): ") +
            orMissing(t, config.privacySupervisoryAuthority, "privacy_supervisory_authority")}});
  return out;
}

std::vector<NoticeSection> recordsOfProcessing(const Config& config) {
  const Lang t{NoticeLanguage::English};
  std::vector<NoticeSection> out;
  out.push_back({"Controller (Art. 30(1)(a))",
                 {orMissing(t, config.privacyController, "privacy_controller"),
                  "Contact: " + orMissing(t, config.privacyContact, "privacy_contact"),
                  "Data protection officer: " + orMissing(t, config.privacyDpo, "privacy_dpo")}});
  out.push_back({"Purposes (Art. 30(1)(b))",
                 {"Holding video meetings (connecting participants, forwarding their end-to-end encrypted media, "
                  "chat and files); protecting the service against abuse; optional host accounts for permanent "
                  "rooms.",
                  "Legal basis: " + orMissing(t, config.privacyLegalBasis, "privacy_legal_basis")}});
  out.push_back({"Categories of data subjects and of personal data (Art. 30(1)(c))",
                 {"Data subjects: participants of meetings (no account needed); hosts with an account.",
                  "Data: transport addresses (IP address and port, memory only); pseudonymous participant IDs; "
                  "salted daily hashes of source networks (memory only); end-to-end encrypted media, chat, "
                  "files and display names (the server cannot read them); meetings' settings and security "
                  "event logs (participant IDs, no names or addresses); for account holders: user name, "
                  "Argon2id password hash, TOTP secret and recovery code hashes, login sessions, permanent "
                  "rooms."}});
  std::vector<std::string> recipients;
  auto hosts = turnHosts(config);
  recipients.push_back(hosts.empty() ? "No TURN relay configured." : "TURN relay servers: " + join(hosts) + ".");
  recipients.push_back(config.privacyRecipients.empty() ? "No other recipients configured (privacy_recipients)."
                                                        : "Other recipients: " + config.privacyRecipients);
  out.push_back({"Recipients (Art. 30(1)(d))", recipients});
  out.push_back({"Transfers to third countries (Art. 30(1)(e))",
                 {"None by Conclave itself; it makes no request to any other server. Where the server and any "
                  "TURN relay are hosted is for the operator to state."}});
  std::vector<std::string> retention = {
      "Transport addresses, participant IDs, rooms: in memory while the meeting runs, rooms " +
          seconds(t, config.roomGraceSeconds) + " after the last person left.",
      "Abuse counters and bans: memory only, salted hash rotated daily, bans for the meeting's life.",
      fileRetention(t, config),
      "Security event logs: " + days(t, config.securityLogRetentionDays) + " (security_log_retention_days).",
      "Meeting settings and PIN hashes: " + days(t, config.meetingRetentionDays) +
          " after the last use (meeting_retention_days).",
      "Accounts: until deleted (conclave admin user delete); their login sessions 12 hours after the last use, "
      "at most 7 days; login-attempt counters (memory only) an hour after the last failure.",
      "Enforcement: one purge job deletes what is past these limits from every store at start and hourly "
      "(shared files also as their time comes, checked every second), and logs counts only.",
      logging(t, config),
  };
  out.push_back({"Time limits for erasure (Art. 30(1)(f))", retention});
  out.push_back(
      {"Technical and organisational measures (Art. 30(1)(g), Art. 32)",
       {"End-to-end encryption of media (SFrame with per-sender keys), chat, files and names; the server forwards "
        "ciphertext and holds no content key. Keys are handed only to members admitted by the server and "
        "verified by the meeting's secret, which never reaches the server.",
        "Transport encryption: HTTPS (TLS 1.2+) for the web client and signaling; DTLS-SRTP for media.",
        "Encryption at rest with crypto-shredding: shared files (already end-to-end encrypted) are sealed again "
        "on disk with AES-256-GCM under a random 256-bit key per meeting, held only in the server's memory and "
        "destroyed when the meeting ends or its last file is deleted; a restart or crash destroys every key, so "
        "no file left on disk can be read, and the start removes them. Damaged or altered files are refused.",
        "Access control: random room IDs, optional PIN (Argon2id), lock, lobby, roles; host accounts with "
        "Argon2id passwords and optional TOTP second factor; rate limits and backoff against guessing.",
        "Data minimisation: no IP addresses in logs" +
            std::string(config.logIps ? " (currently ON: log_ips = true)" : " (log_ips = false)") +
            ", no analytics, no third-party requests from the browser, one cookie for signed-in hosts only.",
        "Budgets per client (connections, bytes, memory, retransmissions) so no one client can exhaust the "
        "server."}});
  return out;
}

nlohmann::json privacyNoticeJson(const Config& config) {
  auto sections = [](const std::vector<NoticeSection>& list) {
    auto array = nlohmann::json::array();
    for (const auto& s : list) array.push_back({{"title", s.title}, {"paragraphs", s.paragraphs}});
    return array;
  };
  return {{"missing", missingPrivacySettings(config)},
          {"notice",
           {{"en", sections(privacyNotice(config, NoticeLanguage::English))},
            {"de", sections(privacyNotice(config, NoticeLanguage::German))}}}};
}

std::string formatSections(const std::vector<NoticeSection>& sections, std::string_view heading, size_t width) {
  std::ostringstream out;
  out << heading << '\n' << std::string(textWidth(heading), '=') << "\n";
  auto wrap = [&](const std::string& text) {
    size_t column = 0;
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
      if (column > 0 && column + 1 + textWidth(word) > width) {
        out << '\n';
        column = 0;
      } else if (column > 0) {
        out << ' ';
        ++column;
      }
      out << word;
      column += textWidth(word);
    }
    out << '\n';
  };
  for (const auto& section : sections) {
    out << '\n' << section.title << '\n' << std::string(textWidth(section.title), '-') << '\n';
    for (const auto& p : section.paragraphs) {
      wrap(p);
      out << '\n';
    }
  }
  return out.str();
}

}  // namespace conclave::app
