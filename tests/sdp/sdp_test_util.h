// Shared helpers for the SDP tests: captured descriptions from tests/sdp/data and small edits.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace conclave::sdp::test {

inline std::string readData(const std::string& name) {
  std::ifstream in(std::string(CONCLAVE_SOURCE_DIR) + "/tests/sdp/data/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces the first occurrence of `from` (which must exist).
inline std::string replaceOnce(std::string text, std::string_view from, std::string_view to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not found: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline std::string replaceAll(std::string text, std::string_view from, std::string_view to) {
  size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

// Removes every line that starts with `prefix` (e.g. "a=fingerprint").
inline std::string removeLines(const std::string& text, std::string_view prefix) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    std::string_view line(text.data() + pos, end - pos);
    if (line.substr(0, prefix.size()) != prefix) out.append(line);
    pos = end;
  }
  return out;
}

// 1-based number of the first line starting with `prefix`, 0 if none.
inline size_t lineOf(const std::string& text, std::string_view prefix) {
  size_t line = 1, pos = 0;
  while (pos < text.size()) {
    if (std::string_view(text).substr(pos, prefix.size()) == prefix) return line;
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;
    pos = end + 1;
    ++line;
  }
  return 0;
}

}  // namespace conclave::sdp::test
