#include "http/account_api.h"

#include "common/base64.h"

namespace conclave::http {

using boost::beast::http::verb;
using nlohmann::json;

namespace {

ApiResponse error(unsigned status, std::string_view code, std::string_view message, int64_t retryAfterMs = 0) {
  json e = {{"code", code}, {"message", message}};
  if (retryAfterMs > 0) e["retryAfterMs"] = retryAfterMs;
  return ApiResponse{status, {{"error", e}}, {}};
}

ApiResponse failure(const accounts::Failure& f) { return error(f.status, f.code, f.message, f.retryAfterMs); }

ApiResponse noContent() { return ApiResponse{204, nullptr, {}}; }

ApiResponse loginRequired() { return error(401, "login-required", "sign in first"); }

std::string sessionCookie(const std::string& token, int64_t maxAgeMs) {
  return std::string(kSessionCookie) + "=" + token +
         "; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=" + std::to_string(maxAgeMs / 1000);
}

std::string clearedCookie() {
  return std::string(kSessionCookie) + "=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0";
}

bool stateChanging(verb method) { return method != verb::get && method != verb::head; }

// A string field of at most `max` bytes, or nullopt.
std::optional<std::string> stringField(const json& body, const char* name, size_t max) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) return std::nullopt;
  return s;
}

json userJson(const accounts::Session& s) { return {{"username", s.username}, {"totp", s.totp}}; }

json roomJson(const accounts::RoomView& view) {
  json room = {{"roomId", view.room.roomId}, {"role", view.owner ? "owner" : "moderator"}};
  if (!view.room.name.empty()) room["name"] = view.room.name;
  if (view.owner) {
    room["moderators"] = view.room.moderators;
    json settings = json::parse(view.room.settings, nullptr, false);
    room["settings"] = settings.is_object() ? settings : json::object();
  }
  return room;
}

ApiResponse loginAnswer(const accounts::LoginResult& r, const accounts::AccountSettings& settings) {
  if (r.totpRequired) return ApiResponse{200, {{"totpRequired", true}, {"ticket", r.ticket}}, {}};
  return ApiResponse{200,
                     {{"csrf", r.session.csrf}, {"user", userJson(r.session)}},
                     sessionCookie(r.token, settings.sessionAbsoluteMs)};
}

}  // namespace

std::string cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view item = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return std::string(item.substr(name.size() + 1));
  }
  return {};
}

std::optional<accounts::Session> AccountApi::sessionOf(const ApiRequest& request) {
  std::string token = cookieValue(request.cookie, kSessionCookie);
  if (token.empty()) return std::nullopt;
  return mService.session(token);
}

std::optional<ApiResponse> AccountApi::checkCreateMeeting(const ApiRequest& request) {
  std::optional<accounts::Session> session;
  try {
    session = sessionOf(request);
  } catch (const std::exception&) {
    return error(500, "internal", "the server failed");
  }
  if (session && !mService.csrfMatches(*session, request.csrf))
    return error(403, "csrf", "the X-Conclave-CSRF header is missing or wrong");
  if (mWhoMayCreate == WhoMayCreate::Accounts && !session)
    return error(401, "login-required", "on this server only account holders may start meetings");
  return std::nullopt;
}

void AccountApi::handle(const ApiRequest& request, const Done& done) {
  try {
    dispatch(request, done);
  } catch (const std::exception&) {
    // A database failure (busy for longer than the timeout, disk full): this request fails.
    done(error(500, "internal", "the server failed"));
  }
}

void AccountApi::dispatch(const ApiRequest& request, const Done& done) {
  if (stateChanging(request.method) && !request.origin.empty() && request.origin != "https://" + request.host)
    return done(error(403, "forbidden-origin", "cross-origin request refused"));
  json body = json::object();
  if (request.method == verb::post || request.method == verb::patch) {
    if (!request.body.empty()) {
      body = json::parse(request.body, nullptr, false);
      if (!body.is_object()) return done(error(400, "invalid", "the body must be a JSON object"));
    }
  }
  if (request.path == "/api/account/login") {
    if (request.method != verb::post) return done(error(405, "method-not-allowed", "use POST"));
    return login(request, body, done);
  }
  if (request.path == "/api/account/login/totp") {
    if (request.method != verb::post) return done(error(405, "method-not-allowed", "use POST"));
    return loginTotp(request, body, done);
  }
  auto session = sessionOf(request);
  if (!session) {
    auto refusal = loginRequired();
    if (!cookieValue(request.cookie, kSessionCookie).empty()) refusal.setCookie = clearedCookie();
    return done(std::move(refusal));
  }
  if (stateChanging(request.method) && !mService.csrfMatches(*session, request.csrf))
    return done(error(403, "csrf", "the X-Conclave-CSRF header is missing or wrong"));
  route(request, body, &*session, done);
}

void AccountApi::login(const ApiRequest& request, const json& body, const Done& done) {
  auto username = stringField(body, "username", 256);
  auto password = stringField(body, "password", 4096);
  if (!username || !password) return done(error(400, "invalid", "username and password are needed"));
  mService.login(*username, *password, request.source, [this, done](accounts::Outcome<accounts::LoginResult> r) {
    if (!r) return done(failure(r.error()));
    done(loginAnswer(r.value(), mService.settings()));
  });
}

void AccountApi::loginTotp(const ApiRequest& request, const json& body, const Done& done) {
  auto ticket = stringField(body, "ticket", 64);
  auto code = stringField(body, "code", 32);
  if (!ticket || !code) return done(error(400, "invalid", "ticket and code are needed"));
  auto r = mService.loginTotp(*ticket, *code, request.source);
  if (!r) return done(failure(r.error()));
  done(loginAnswer(r.value(), mService.settings()));
}

void AccountApi::route(const ApiRequest& request, const json& body, const accounts::Session* sessionPtr,
                       const Done& done) {
  const accounts::Session& session = *sessionPtr;
  const std::string& path = request.path;
  auto only = [&](verb method) {
    if (request.method == method) return true;
    done(error(405, "method-not-allowed", std::string("use ") + std::string(boost::beast::http::to_string(method))));
    return false;
  };
  if (path == "/api/account") {
    if (!only(verb::get)) return;
    return done(ApiResponse{200, {{"user", userJson(session)}, {"csrf", session.csrf}}, {}});
  }
  if (path == "/api/account/logout") {
    if (!only(verb::post)) return;
    mService.logout(session);
    auto r = noContent();
    r.setCookie = clearedCookie();
    return done(std::move(r));
  }
  if (path == "/api/account/password") {
    if (!only(verb::post)) return;
    auto oldPassword = stringField(body, "old", 4096), newPassword = stringField(body, "new", 4096);
    if (!oldPassword || !newPassword) return done(error(400, "invalid", "old and new are needed"));
    return mService.changePassword(
        session, *oldPassword, *newPassword,
        [done](const accounts::Outcome<accounts::Done>& r) { done(r ? noContent() : failure(r.error())); });
  }
  if (path == "/api/account/totp/setup") {
    if (!only(verb::post)) return;
    auto r = mService.setupTotp(session);
    if (!r) return done(failure(r.error()));
    return done(ApiResponse{200, {{"secret", r->secret}, {"uri", r->uri}}, {}});
  }
  if (path == "/api/account/totp/confirm") {
    if (!only(verb::post)) return;
    auto code = stringField(body, "code", 32);
    if (!code) return done(error(400, "invalid", "code is needed"));
    auto r = mService.confirmTotp(session, *code);
    if (!r) return done(failure(r.error()));
    return done(ApiResponse{200, {{"recoveryCodes", r.value()}}, {}});
  }
  if (path == "/api/account/totp/disable") {
    if (!only(verb::post)) return;
    auto password = stringField(body, "password", 4096), code = stringField(body, "code", 32);
    if (!password || !code) return done(error(400, "invalid", "password and code are needed"));
    return mService.disableTotp(session, *password, *code, [done](const accounts::Outcome<accounts::Done>& r) {
      done(r ? noContent() : failure(r.error()));
    });
  }
  constexpr std::string_view kRooms = "/api/account/rooms";
  if (path.rfind(kRooms, 0) == 0 && (path.size() == kRooms.size() || path[kRooms.size()] == '/'))
    return rooms(request, std::string_view(path).substr(kRooms.size()), body, session, done);
  done(error(404, "not-found", "no such API"));
}

void AccountApi::rooms(const ApiRequest& request, std::string_view rest, const json& body,
                       const accounts::Session& session, const Done& done) {
  if (rest.empty() || rest == "/") {
    if (request.method == verb::get) {
      json list = json::array();
      for (const auto& view : mService.rooms(session)) list.push_back(roomJson(view));
      return done(ApiResponse{200, {{"rooms", list}}, {}});
    }
    if (request.method != verb::post) return done(error(405, "method-not-allowed", "use GET or POST"));
    std::string name;
    if (body.contains("name")) {
      auto n = stringField(body, "name", 100);
      if (!n) return done(error(400, "invalid", "name must be a string of at most 100 bytes"));
      name = *n;
    }
    auto r = mService.createRoom(session, name);
    if (!r) return done(failure(r.error()));
    return done(ApiResponse{201, {{"roomId", r.value()}, {"hostToken", mService.hostTokenOf(r.value())}}, {}});
  }
  rest.remove_prefix(1);
  std::string_view roomId = rest.substr(0, rest.find('/'));
  std::string_view action = roomId.size() < rest.size() ? rest.substr(roomId.size()) : std::string_view();
  if (roomId.empty() || roomId.size() > 64 || !common::isBase64Url(roomId))
    return done(error(404, "not-found", "no such room"));
  if (action == "/host-token" || action == "/moderator-token") {
    if (request.method != verb::get) return done(error(405, "method-not-allowed", "use GET"));
    bool host = action == "/host-token";
    auto r = host ? mService.hostToken(session, roomId) : mService.moderatorToken(session, roomId);
    if (!r) return done(failure(r.error()));
    return done(ApiResponse{200, {{host ? "hostToken" : "moderatorToken", r.value()}}, {}});
  }
  if (!action.empty()) return done(error(404, "not-found", "no such API"));
  if (request.method == verb::delete_) {
    auto r = mService.deleteRoom(session, roomId);
    return done(r ? noContent() : failure(r.error()));
  }
  if (request.method != verb::patch) return done(error(405, "method-not-allowed", "use PATCH or DELETE"));
  std::optional<json> settings;
  std::optional<std::vector<std::string>> moderators;
  for (const auto& [key, value] : body.items()) {
    if (key == "settings") {
      settings = value;
    } else if (key == "moderators") {
      if (!value.is_array()) return done(error(400, "invalid", "moderators must be an array of usernames"));
      moderators.emplace();
      for (const auto& m : value) {
        if (!m.is_string()) return done(error(400, "invalid", "moderators must be an array of usernames"));
        moderators->push_back(m.get<std::string>());
      }
    } else {
      return done(error(400, "invalid", "unknown field " + key.substr(0, 64)));
    }
  }
  auto r = mService.updateRoom(session, roomId, settings, moderators);
  if (!r) return done(failure(r.error()));
  done(ApiResponse{200, roomJson(r.value()), {}});
}

}  // namespace conclave::http
