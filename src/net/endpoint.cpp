#include "net/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace conclave::net {
namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

uint64_t mix(uint64_t h, uint64_t v) {
  // splitmix64 finalizer over a running combination: cheap and well spread.
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::optional<uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace

Endpoint::Endpoint() { std::memset(&mAddr, 0, sizeof(mAddr)); }

Endpoint Endpoint::v4(std::array<uint8_t, 4> address, uint16_t port) {
  Endpoint e;
  e.mFamily = Family::V4;
  e.mAddr.in4.sin_family = AF_INET;
  e.mAddr.in4.sin_port = htons(port);
  std::memcpy(&e.mAddr.in4.sin_addr, address.data(), address.size());
  return e;
}

Endpoint Endpoint::v6(std::array<uint8_t, 16> address, uint16_t port, uint32_t scopeId) {
  Endpoint e;
  e.mFamily = Family::V6;
  e.mAddr.in6.sin6_family = AF_INET6;
  e.mAddr.in6.sin6_port = htons(port);
  e.mAddr.in6.sin6_scope_id = scopeId;
  std::memcpy(&e.mAddr.in6.sin6_addr, address.data(), address.size());
  return e;
}

std::optional<Endpoint> Endpoint::fromSockaddr(const ::sockaddr* address, socklen_t length) {
  if (address == nullptr || length < static_cast<socklen_t>(sizeof(sa_family_t))) {
    return std::nullopt;
  }
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(::sockaddr_in))) {
    ::sockaddr_in in;
    std::memcpy(&in, address, sizeof(in));
    std::array<uint8_t, 4> bytes;
    std::memcpy(bytes.data(), &in.sin_addr, bytes.size());
    return v4(bytes, ntohs(in.sin_port));
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(::sockaddr_in6))) {
    ::sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof(in6));
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return v6(bytes, ntohs(in6.sin6_port), in6.sin6_scope_id);
  }
  return std::nullopt;
}

std::optional<Endpoint> Endpoint::fromSockaddr(const ::sockaddr_storage& address) {
  return fromSockaddr(reinterpret_cast<const ::sockaddr*>(&address), sizeof(address));
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  char host[65];
  std::string_view hostPart;
  std::string_view portPart;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    hostPart = text.substr(1, close - 1);
    portPart = text.substr(close + 2);
    uint32_t scope = 0;
    if (auto pct = hostPart.find('%'); pct != std::string_view::npos) {
      auto scopeText = hostPart.substr(pct + 1);
      auto [end, ec] = std::from_chars(scopeText.data(), scopeText.data() + scopeText.size(), scope);
      if (scopeText.empty() || ec != std::errc{} || end != scopeText.data() + scopeText.size()) {
        return std::nullopt;
      }
      hostPart = hostPart.substr(0, pct);
    }
    auto port = parsePort(portPart);
    if (!port) return std::nullopt;
    std::copy(hostPart.begin(), hostPart.end(), host);
    host[hostPart.size()] = '\0';
    std::array<uint8_t, 16> bytes;
    if (inet_pton(AF_INET6, host, bytes.data()) != 1) return std::nullopt;
    return v6(bytes, *port, scope);
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  hostPart = text.substr(0, colon);
  auto port = parsePort(text.substr(colon + 1));
  if (!port) return std::nullopt;
  std::copy(hostPart.begin(), hostPart.end(), host);
  host[hostPart.size()] = '\0';
  std::array<uint8_t, 4> bytes;
  if (inet_pton(AF_INET, host, bytes.data()) != 1) return std::nullopt;
  return v4(bytes, *port);
}

uint16_t Endpoint::port() const {
  switch (mFamily) {
    case Family::V4:
      return ntohs(mAddr.in4.sin_port);
    case Family::V6:
      return ntohs(mAddr.in6.sin6_port);
    case Family::None:
      break;
  }
  return 0;
}

uint32_t Endpoint::scopeId() const { return isV6() ? mAddr.in6.sin6_scope_id : 0; }

std::span<const uint8_t> Endpoint::addressBytes() const {
  switch (mFamily) {
    case Family::V4:
      return {reinterpret_cast<const uint8_t*>(&mAddr.in4.sin_addr), 4};
    case Family::V6:
      return {reinterpret_cast<const uint8_t*>(&mAddr.in6.sin6_addr), 16};
    case Family::None:
      break;
  }
  return {};
}

bool Endpoint::isV4Mapped() const {
  if (!isV6()) return false;
  auto bytes = addressBytes();
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes.begin());
}

Endpoint Endpoint::unmapped() const {
  if (!isV4Mapped()) return *this;
  auto bytes = addressBytes();
  return v4({bytes[12], bytes[13], bytes[14], bytes[15]}, port()).overConnection(mConnection);
}

Endpoint Endpoint::overConnection(uint64_t id) const {
  Endpoint e = *this;
  e.mConnection = id;
  return e;
}

socklen_t Endpoint::sockaddrLength() const {
  switch (mFamily) {
    case Family::V4:
      return sizeof(::sockaddr_in);
    case Family::V6:
      return sizeof(::sockaddr_in6);
    case Family::None:
      break;
  }
  return 0;
}

::sockaddr_storage Endpoint::toSockaddrStorage() const {
  ::sockaddr_storage out;
  std::memset(&out, 0, sizeof(out));
  std::memcpy(&out, &mAddr, sockaddrLength());
  return out;
}

std::string Endpoint::toString() const {
  char host[INET6_ADDRSTRLEN] = {};
  switch (mFamily) {
    case Family::V4:
      inet_ntop(AF_INET, &mAddr.in4.sin_addr, host, sizeof(host));
      return std::string(host) + ':' + std::to_string(port()) + (mConnection != 0 ? " tcp" : "");
    case Family::V6: {
      inet_ntop(AF_INET6, &mAddr.in6.sin6_addr, host, sizeof(host));
      std::string out = "[" + std::string(host);
      if (scopeId() != 0) out += '%' + std::to_string(scopeId());
      return out + "]:" + std::to_string(port()) + (mConnection != 0 ? " tcp" : "");
    }
    case Family::None:
      break;
  }
  return "-";
}

size_t Endpoint::hash() const {
  uint64_t h = mix(static_cast<uint64_t>(mFamily), (uint64_t{port()} << 32) | scopeId());
  if (mConnection != 0) h = mix(h, mConnection);
  auto bytes = addressBytes();
  for (size_t i = 0; i < bytes.size(); i += 4) {
    h = mix(h,
            (uint32_t{bytes[i]} << 24) | (uint32_t{bytes[i + 1]} << 16) | (uint32_t{bytes[i + 2]} << 8) | bytes[i + 3]);
  }
  return static_cast<size_t>(h);
}

bool Endpoint::operator==(const Endpoint& other) const { return (*this <=> other) == 0; }

std::strong_ordering Endpoint::operator<=>(const Endpoint& other) const {
  if (auto c = mFamily <=> other.mFamily; c != 0) return c;
  auto a = addressBytes();
  auto b = other.addressBytes();
  // Same family, so the same size; memcmp is not called on an empty (null) span.
  if (!a.empty()) {
    if (int c = std::memcmp(a.data(), b.data(), a.size()); c != 0) {
      return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
  }
  if (auto c = port() <=> other.port(); c != 0) return c;
  if (auto c = scopeId() <=> other.scopeId(); c != 0) return c;
  return mConnection <=> other.mConnection;
}

}  // namespace conclave::net
