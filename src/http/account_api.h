// The accounts HTTP API (/api/account/...; docs/protocol.md "Host accounts") over
// accounts::AccountService, and the `who_may_create` check of POST /api/rooms.
//
// Requests arrive parsed into ApiRequest, answers leave as ApiResponse (JSON, or 204), so the
// routing is tested without sockets. The session is the `conclave_session` cookie (HttpOnly,
// Secure, SameSite=Strict, Path=/), the only cookie Conclave sets. Every state-changing request
// of a signed-in user carries `X-Conclave-CSRF` equal to the session's token (else 403 `csrf`),
// and a request whose Origin is not this server's gets 403 `forbidden-origin`.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/account_service.h"
#include "net/source_key.h"

namespace conclave::http {

inline constexpr std::string_view kSessionCookie = "conclave_session";

struct ApiRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string path;  // without the query
  std::string body;
  std::string cookie;  // the Cookie header
  std::string csrf;    // the X-Conclave-CSRF header
  std::string origin;  // the Origin header (empty if none)
  std::string host;    // the Host header
  net::SourceKey source{};
};

struct ApiResponse {
  unsigned status = 200;
  nlohmann::json body;  // null: no body (204)
  std::string setCookie;
};

enum class WhoMayCreate { Anyone, Accounts };

class AccountApi {
 public:
  AccountApi(accounts::AccountService& service, WhoMayCreate whoMayCreate)
      : mService(service), mWhoMayCreate(whoMayCreate) {}

  static bool handles(std::string_view path) { return path == "/api/account" || path.rfind("/api/account/", 0) == 0; }
  void handle(const ApiRequest& request, const std::function<void(ApiResponse)>& done);
  // POST /api/rooms: nullopt if the request may start a meeting, else the refusal (403 `csrf` for
  // a signed-in request without its CSRF token; 401 `login-required` when only accounts may).
  std::optional<ApiResponse> checkCreateMeeting(const ApiRequest& request);

 private:
  using Done = std::function<void(ApiResponse)>;
  void dispatch(const ApiRequest& request, const Done& done);
  void route(const ApiRequest& request, const nlohmann::json& body, const accounts::Session* session, const Done& done);
  void login(const ApiRequest& request, const nlohmann::json& body, const Done& done);
  void loginTotp(const ApiRequest& request, const nlohmann::json& body, const Done& done);
  void rooms(const ApiRequest& request, std::string_view rest, const nlohmann::json& body,
             const accounts::Session& session, const Done& done);
  std::optional<accounts::Session> sessionOf(const ApiRequest& request);

  accounts::AccountService& mService;
  WhoMayCreate mWhoMayCreate;
};

// The value of cookie `name` in a Cookie header, or empty.
std::string cookieValue(std::string_view header, std::string_view name);

}  // namespace conclave::http
