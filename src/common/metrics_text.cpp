#include "common/metrics_text.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace conclave::common {
namespace {

bool validName(std::string_view name, bool allowColon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allowColon && c == ':');
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

// HELP text: backslash and newline escaped. Label values: the double quote too.
void appendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

MetricsText& MetricsText::family(std::string_view name, Type type, std::string_view help) {
  if (!validName(name, true)) throw std::invalid_argument("metric name \"" + std::string(name) + "\"");
  mFamily = name;
  mText += "# HELP ";
  mText += name;
  mText += ' ';
  appendEscaped(mText, help, false);
  mText += "\n# TYPE ";
  mText += name;
  mText += type == Type::Counter ? " counter\n" : " gauge\n";
  return *this;
}

void MetricsText::startSample(Labels labels) {
  if (mFamily.empty()) throw std::logic_error("a metrics sample before its family");
  mText += mFamily;
  if (labels.size() == 0) {
    mText += ' ';
    return;
  }
  char separator = '{';
  for (const auto& [name, value] : labels) {
    if (!validName(name, false)) throw std::invalid_argument("label name \"" + std::string(name) + "\"");
    mText += separator;
    mText += name;
    mText += "=\"";
    appendEscaped(mText, value, true);
    mText += '"';
    separator = ',';
  }
  mText += "} ";
}

MetricsText& MetricsText::sample(uint64_t value, Labels labels) {
  startSample(labels);
  mText += std::to_string(value);
  mText += '\n';
  return *this;
}

MetricsText& MetricsText::sample(double value, Labels labels) {
  startSample(labels);
  if (std::isnan(value)) {
    mText += "NaN";
  } else if (std::isinf(value)) {
    mText += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    mText += buffer;
  }
  mText += '\n';
  return *this;
}

MetricsText& MetricsText::gauge(std::string_view name, std::string_view help, uint64_t value) {
  return family(name, Type::Gauge, help).sample(value);
}

MetricsText& MetricsText::counter(std::string_view name, std::string_view help, uint64_t value) {
  return family(name, Type::Counter, help).sample(value);
}

}  // namespace conclave::common
