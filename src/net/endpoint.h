// A transport address: an IPv4 or IPv6 address and a UDP port.
//
// Stored as a `sockaddr_in` / `sockaddr_in6` union, so the net layer can hand it straight to
// sendto() (`sockaddr()` / `sockaddrLength()`) and build it from what recvfrom() filled in
// (`fromSockaddr()`). Only the meaningful fields take part in comparison and hashing (family,
// address, port and, for IPv6, the scope id); padding, sin_zero and the flow label never do.
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer)
// is kept as received, so replies go out through the same socket; `unmapped()` gives the plain
// IPv4 form, which is what a peer must see in XOR-MAPPED-ADDRESS.
//
// ICE-TCP (RFC 6544): a peer's address and port seen on one of a worker's TCP connections is
// another ICE path than the same address and port over UDP. Such an endpoint carries the worker's
// id of that connection (`connection()`, never 0 and never reused by a worker; 0 means UDP), which
// takes part in comparison and hashing, so ICE pairs, routing and sends keep the two apart without
// knowing about TCP: the worker sends to a connection endpoint over that connection.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace conclave::net {

class Endpoint {
 public:
  enum class Family : uint8_t { None, V4, V6 };

  // An empty endpoint (family None); compares equal only to other empty endpoints.
  Endpoint();

  static Endpoint v4(std::array<uint8_t, 4> address, uint16_t port);
  static Endpoint v6(std::array<uint8_t, 16> address, uint16_t port, uint32_t scopeId = 0);
  // Fails on any family other than AF_INET / AF_INET6 or a length too short for it.
  static std::optional<Endpoint> fromSockaddr(const ::sockaddr* address, socklen_t length);
  static std::optional<Endpoint> fromSockaddr(const ::sockaddr_storage& address);
  // "192.0.2.1:3478", "[2001:db8::1]:3478", "[fe80::1%2]:3478" (numeric scope only).
  static std::optional<Endpoint> parse(std::string_view text);

  Family family() const { return mFamily; }
  bool isV4() const { return mFamily == Family::V4; }
  bool isV6() const { return mFamily == Family::V6; }
  bool empty() const { return mFamily == Family::None; }
  uint16_t port() const;
  uint32_t scopeId() const;  // 0 for IPv4
  // 4 bytes for IPv4, 16 for IPv6, empty for None; network order.
  std::span<const uint8_t> addressBytes() const;

  bool isV4Mapped() const;
  // The IPv4 form of an IPv4-mapped IPv6 endpoint; any other endpoint unchanged.
  Endpoint unmapped() const;

  // This address and port as seen on the worker's TCP connection `id` (0: back to UDP).
  Endpoint overConnection(uint64_t id) const;
  uint64_t connection() const { return mConnection; }

  const ::sockaddr* sockaddr() const { return &mAddr.any; }
  socklen_t sockaddrLength() const;
  ::sockaddr_storage toSockaddrStorage() const;

  // "192.0.2.1:3478" / "[2001:db8::1]:3478" (" tcp" added over a connection); "-" when empty. For logs, pass the result through
  // common::logAddress (addresses are personal data).
  std::string toString() const;

  size_t hash() const;
  bool operator==(const Endpoint& other) const;
  std::strong_ordering operator<=>(const Endpoint& other) const;

 private:
  union Storage {
    ::sockaddr any;
    ::sockaddr_in in4;
    ::sockaddr_in6 in6;
  };
  Storage mAddr;
  Family mFamily = Family::None;
  uint64_t mConnection = 0;
};

}  // namespace conclave::net

template <>
struct std::hash<conclave::net::Endpoint> {
  size_t operator()(const conclave::net::Endpoint& e) const noexcept { return e.hash(); }
};
