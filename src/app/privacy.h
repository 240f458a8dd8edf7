// The privacy notice (GDPR Art. 13) and the record of processing activities (Art. 30), generated
// from the configuration: what the server processes, for how long and who receives it follow from
// the actual settings (retention, logging, TURN, accounts), and what only the operator can say
// (who the controller is, whom to contact, the legal basis, the supervisory authority) comes from
// the `privacy_*` settings. A setting left empty is reported as missing (at start, on /privacy
// and in the printed texts), never filled with made-up text.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"

namespace conclave::app {

enum class NoticeLanguage { English, German };

struct NoticeSection {
  std::string title;
  std::vector<std::string> paragraphs;
};

// The `privacy_*` settings that are empty (their keys, as in the TOML file).
std::vector<std::string> missingPrivacySettings(const Config& config);

std::vector<NoticeSection> privacyNotice(const Config& config, NoticeLanguage language);
// Art. 30(1): one record for the whole service (English; the record is the operator's document).
std::vector<NoticeSection> recordsOfProcessing(const Config& config);

// What GET /api/privacy answers: {"missing": [...], "notice": {"en": [...], "de": [...]}}, each
// section {"title", "paragraphs"}.
nlohmann::json privacyNoticeJson(const Config& config);

// Plain text for a terminal or a file: titles underlined, paragraphs wrapped at `width`.
std::string formatSections(const std::vector<NoticeSection>& sections, std::string_view heading, size_t width = 78);

}  // namespace conclave::app
