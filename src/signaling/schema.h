// Declarative validation of signaling messages: each message type has a table of field rules,
// checked before any handler runs (the one thing worth copying from Janus).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace conclave::signaling {

enum class FieldKind { String, Integer, Boolean, Object, Array };

struct FieldRule {
  std::string_view name;
  FieldKind kind;
  bool required = true;
  // Strings: length bounds in bytes (maxLength 0 = no limit); integers: value bounds.
  int64_t min = 0;
  int64_t max = 0;
  // Strings only: every character must be in the URL-safe base64 alphabet.
  bool urlSafe = false;
  // Strings only, when not empty: the allowed values.
  std::span<const std::string_view> oneOf = {};
  // Arrays: each item is an object checked against these rules (max = most items).
  // Objects: the object is checked against these rules.
  std::span<const FieldRule> items = {};
  // Arrays of objects only, when not empty: no two items have the same value of this field.
  std::string_view uniqueKey = {};
  // Strings only: an SDP token (RFC 8866), as a `mid` is.
  bool token = false;
  // Arrays only, when > 0: each item is a string of 1 to this many bytes.
  int64_t itemMaxBytes = 0;
  // JSON null is also accepted (e.g. `pin: null` clears a PIN).
  bool nullable = false;
  // Strings only: ASCII digits only (a PIN).
  bool digits = false;
};

// What a schema does with fields it has no rule for: a server refuses them in client messages;
// a client ignores them in server messages, which may gain fields in later versions.
enum class UnknownFields { Refuse, Ignore };

struct MessageSchema {
  std::string_view type;
  std::span<const FieldRule> fields;
  UnknownFields unknown = UnknownFields::Refuse;
  // A rule that spans fields (e.g. a URL that names the file ID), checked after the fields.
  std::optional<std::string> (*check)(const nlohmann::json& message) = nullptr;
};

// Checks `message` (a JSON object) against `schema`. "type" and "id" are allowed on every
// message (id: integer 0..2^53 or a string of at most 64 bytes); any other field not in the
// table is refused or ignored as the schema says, or always refused with UnknownFields::Refuse
// (the server checks its own messages so). Lengths are in bytes. Returns a human-readable
// description of the first problem.
std::optional<std::string> validate(const nlohmann::json& message, const MessageSchema& schema,
                                    std::optional<UnknownFields> unknown = std::nullopt);

// True if `id` is an acceptable request id (so it may be echoed in a reply).
bool isValidRequestId(const nlohmann::json& id);

}  // namespace conclave::signaling
