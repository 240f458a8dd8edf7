#include "signaling/schema.h"

#include <algorithm>
#include <set>

#include "common/base64.h"

namespace conclave::signaling {

std::optional<std::string> validateFields(const nlohmann::json& message, const MessageSchema& schema, bool envelope,
                                          UnknownFields unknown);

namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

std::optional<std::string> checkId(const nlohmann::json& id) {
  if (id.is_number_unsigned() && id.get<uint64_t>() <= static_cast<uint64_t>(kMaxSafeInteger)) return std::nullopt;
  if (id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() <= kMaxSafeInteger) return std::nullopt;
  if (id.is_string() && id.get_ref<const std::string&>().size() <= 64) return std::nullopt;
  return "field 'id' must be an integer from 0 to 2^53-1 or a string of at most 64 characters";
}

const char* kindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::String:
      return "a string";
    case FieldKind::Integer:
      return "an integer";
    case FieldKind::Boolean:
      return "a boolean";
    case FieldKind::Object:
      return "an object";
    case FieldKind::Array:
      return "an array";
  }
  return "?";
}

bool hasKind(const nlohmann::json& v, FieldKind kind) {
  switch (kind) {
    case FieldKind::String:
      return v.is_string();
    case FieldKind::Integer:
      return v.is_number_integer();
    case FieldKind::Boolean:
      return v.is_boolean();
    case FieldKind::Object:
      return v.is_object();
    case FieldKind::Array:
      return v.is_array();
  }
  return false;
}

bool isTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`{|}~").find(c) != std::string_view::npos;
}

std::optional<std::string> checkField(const nlohmann::json& v, const FieldRule& rule, UnknownFields unknown) {
  std::string name(rule.name);
  if (rule.nullable && v.is_null()) return std::nullopt;
  if (!hasKind(v, rule.kind)) return "field '" + name + "' must be " + kindName(rule.kind);
  if (rule.kind == FieldKind::String) {
    const auto& s = v.get_ref<const std::string&>();
    if (static_cast<int64_t>(s.size()) < rule.min)
      return "field '" + name + "' must have at least " + std::to_string(rule.min) + " characters";
    if (rule.max > 0 && static_cast<int64_t>(s.size()) > rule.max)
      return "field '" + name + "' must have at most " + std::to_string(rule.max) + " characters";
    if (rule.urlSafe && !common::isBase64Url(s)) return "field '" + name + "' has characters that are not allowed";
    if (rule.token && !std::all_of(s.begin(), s.end(), isTokenChar))
      return "field '" + name + "' has characters that are not allowed";
    if (rule.digits && !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return "field '" + name + "' must hold digits only";
    if (!rule.oneOf.empty() && std::find(rule.oneOf.begin(), rule.oneOf.end(), s) == rule.oneOf.end())
      return "field '" + name + "' has a value that is not allowed";
  }
  if (rule.kind == FieldKind::Array) {
    if (rule.max > 0 && static_cast<int64_t>(v.size()) > rule.max)
      return "field '" + name + "' must have at most " + std::to_string(rule.max) + " items";
    if (!rule.items.empty()) {
      MessageSchema itemSchema{rule.name, rule.items};
      for (const auto& item : v) {
        if (!item.is_object()) return "field '" + name + "' must hold objects";
        if (auto err = validateFields(item, itemSchema, false, unknown)) return "in '" + name + "': " + *err;
      }
    }
    if (rule.itemMaxBytes > 0) {
      for (const auto& item : v) {
        if (!item.is_string() || item.get_ref<const std::string&>().empty() ||
            static_cast<int64_t>(item.get_ref<const std::string&>().size()) > rule.itemMaxBytes)
          return "field '" + name + "' must hold strings of 1 to " + std::to_string(rule.itemMaxBytes) + " characters";
      }
    }
    if (!rule.uniqueKey.empty()) {
      std::string key(rule.uniqueKey);
      std::set<nlohmann::json> seen;
      for (const auto& item : v) {
        if (item.contains(key) && !seen.insert(item[key]).second) {
          std::string problem = "field '" + name;
          problem += "' has two items with the same '";
          problem += key;
          problem += "'";
          return problem;
        }
      }
    }
  }
  if (rule.kind == FieldKind::Object && !rule.items.empty()) {
    MessageSchema objectSchema{rule.name, rule.items};
    if (auto err = validateFields(v, objectSchema, false, unknown)) return "in '" + name + "': " + *err;
  }
  if (rule.kind == FieldKind::Integer) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return "field '" + name + "' is out of range";
    int64_t n = v.get<int64_t>();
    if (n < rule.min || n > rule.max)
      return "field '" + name + "' must be from " + std::to_string(rule.min) + " to " + std::to_string(rule.max);
  }
  return std::nullopt;
}

}  // namespace

bool isValidRequestId(const nlohmann::json& id) { return !checkId(id); }

std::optional<std::string> validate(const nlohmann::json& message, const MessageSchema& schema,
                                    std::optional<UnknownFields> unknown) {
  if (!message.is_object()) return "the message must be a JSON object";
  if (auto err = validateFields(message, schema, true, unknown.value_or(schema.unknown))) return err;
  if (schema.check) return schema.check(message);
  return std::nullopt;
}

std::optional<std::string> validateFields(const nlohmann::json& message, const MessageSchema& schema, bool envelope,
                                          UnknownFields unknown) {
  for (const auto& [key, value] : message.items()) {
    if (envelope && key == "type") continue;
    if (envelope && key == "id") {
      if (auto err = checkId(value)) return err;
      continue;
    }
    const FieldRule* rule = nullptr;
    for (const auto& r : schema.fields)
      if (r.name == key) rule = &r;
    if (!rule) {
      if (unknown == UnknownFields::Ignore) continue;
      return "field '" + key + "' is not allowed in '" + std::string(schema.type) + "'";
    }
    if (auto err = checkField(value, *rule, unknown)) return err;
  }
  for (const auto& r : schema.fields)
    if (r.required && !message.contains(r.name)) return "field '" + std::string(r.name) + "' is required";
  return std::nullopt;
}

}  // namespace conclave::signaling
