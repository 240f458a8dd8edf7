// Generic SDP (RFC 8866): text in, structure out, and back.
//
// parse() is strict: it checks the line grammar, the order of lines, the required lines and the
// size limits, and returns an Error with a stable code and the 1-based line number instead of
// throwing. It knows nothing of WebRTC: attributes are kept verbatim and in order; the typed
// WebRTC view lives in session_description.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace conclave::sdp {

// A failure to parse or negotiate. `code` is a stable string meant for programs and tests
// (e.g. "missing-version", "duplicate-mid"); `message` is English for humans and may change.
struct Error {
  std::string code;
  size_t line = 0;  // 1-based line of the SDP text, 0 when not tied to one line
  std::string message;
};

// Either a value or an Error (common/result.h).
template <typename T>
using Result = common::Result<T, Error>;

inline Error makeError(std::string code, size_t line, std::string message) {
  return Error{std::move(code), line, std::move(message)};
}

struct Limits {
  size_t maxBytes = 64 * 1024;  // whole description (matches the signaling message limit)
  size_t maxLineBytes = 4096;   // one line without its line ending
  size_t maxLines = 8192;
  size_t maxMediaSections = 64;
};

// `a=name` (hasValue false) or `a=name:value` (value may be empty).
struct Attribute {
  std::string name;
  std::string value;
  bool hasValue = false;
  size_t line = 0;

  bool operator==(const Attribute& other) const {
    return name == other.name && value == other.value && hasValue == other.hasValue;
  }
};

struct Origin {
  std::string username = "-";
  std::string sessionId;       // 1*DIGIT, kept as text: browsers use the full 64-bit range
  std::string sessionVersion;  // 1*DIGIT
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "127.0.0.1";
};

struct Connection {
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string address = "0.0.0.0";
};

struct Bandwidth {
  std::string type;  // "AS", "TIAS", "CT", ...
  uint64_t value = 0;
};

struct Timing {
  uint64_t start = 0;
  uint64_t stop = 0;
  std::vector<std::string> repeats;  // r= lines, verbatim
};

// Lookup helpers over an attribute list.
const Attribute* findAttribute(const std::vector<Attribute>& attributes, std::string_view name);
std::vector<const Attribute*> findAttributes(const std::vector<Attribute>& attributes, std::string_view name);

struct MediaSection {
  std::string media;  // "audio", "video", "application", ...
  uint16_t port = 0;
  std::optional<uint32_t> portCount;  // m=<media> <port>/<count>
  std::string protocol;
  std::vector<std::string> formats;
  std::optional<std::string> title;  // i=
  std::vector<Connection> connections;
  std::vector<Bandwidth> bandwidths;
  std::optional<std::string> key;  // k= (obsolete, kept verbatim)
  std::vector<Attribute> attributes;
  size_t line = 0;  // line of the m= line

  const Attribute* find(std::string_view name) const { return findAttribute(attributes, name); }
  bool has(std::string_view name) const { return find(name) != nullptr; }
  void add(std::string name) { attributes.push_back({std::move(name), {}, false, 0}); }
  void add(std::string name, std::string value) { attributes.push_back({std::move(name), std::move(value), true, 0}); }
};

struct Description {
  Origin origin;
  std::string sessionName = "-";
  std::optional<std::string> information;  // i=
  std::optional<std::string> uri;          // u=
  std::vector<std::string> emails;         // e=
  std::vector<std::string> phones;         // p=
  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::vector<Timing> timings{Timing{}};
  std::optional<std::string> zone;  // z=
  std::optional<std::string> key;   // k=
  std::vector<Attribute> attributes;
  std::vector<MediaSection> media;

  const Attribute* find(std::string_view name) const { return findAttribute(attributes, name); }
  bool has(std::string_view name) const { return find(name) != nullptr; }
  void add(std::string name) { attributes.push_back({std::move(name), {}, false, 0}); }
  void add(std::string name, std::string value) { attributes.push_back({std::move(name), std::move(value), true, 0}); }
};

// Lines end in CRLF or LF (a final line ending may be missing); any other control character
// except TAB is refused. Error codes: too-large, too-many-lines, line-too-long, bad-character,
// bad-line, unknown-line-type, bad-order, duplicate-line, missing-version, bad-version,
// missing-origin, bad-origin, missing-session-name, bad-session-name, missing-timing,
// bad-timing, bad-connection, bad-bandwidth, bad-media, too-many-media, bad-attribute.
Result<Description> parse(std::string_view text, const Limits& limits = {});

// Writes the description with CRLF line endings, fields in RFC 8866 order.
std::string serialize(const Description& description);

// RFC 8866 token (att-field, media, proto parts, bwtype...).
bool isToken(std::string_view text);
// Splits on single spaces; empty fields (two spaces in a row) are kept as empty strings.
std::vector<std::string_view> splitSpaces(std::string_view text);
std::optional<uint64_t> parseDecimal(std::string_view text, uint64_t max);

}  // namespace conclave::sdp
