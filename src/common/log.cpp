#include "common/log.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <vector>

#include "common/base64.h"

namespace conclave::common {
namespace {

struct LogState {
  std::mutex mutex;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
  bool logIps = false;
  std::vector<uint8_t> key;
};

LogState& state() {
  static LogState s;
  return s;
}

spdlog::sink_ptr sinkLocked(LogState& s) {
  if (!s.sink) {
    s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s.sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
  }
  return s.sink;
}

}  // namespace

void initLogging(const LogSettings& settings) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.level = spdlog::level::from_str(settings.level);
  s.logIps = settings.logIps;
  sinkLocked(s);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(s.level); });
}

std::shared_ptr<spdlog::logger> logger(std::string_view subsystem) {
  std::string name(subsystem);
  if (auto existing = spdlog::get(name)) return existing;
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto l = std::make_shared<spdlog::logger>(name, sinkLocked(s));
  l->set_level(s.level);
  spdlog::register_logger(l);
  return l;
}

void setLogKey(std::span<const uint8_t> key) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.key.assign(key.begin(), key.end());
}

std::string logId(std::string_view id) {
  std::vector<uint8_t> key;
  {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    key = s.key;
  }
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int macLen = 0;
  static const uint8_t kNoKey[1] = {0};
  HMAC(EVP_sha256(), key.empty() ? kNoKey : key.data(), static_cast<int>(key.empty() ? 1 : key.size()),
       reinterpret_cast<const uint8_t*>(id.data()), id.size(), mac, &macLen);
  return hexEncode(std::span<const uint8_t>(mac, 4));
}

std::string logAddress(std::string_view address) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return s.logIps ? std::string(address) : std::string("-");
}

}  // namespace conclave::common
