// The client network a connection comes from, as the per-source budgets count it: an IPv4
// address, or an IPv6 /64 (one subscriber's prefix: an attacker gets a whole /64 for free).
// Keys are held in memory only, while something is counted against them, and are never logged.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>

namespace conclave::net {

using SourceKey = std::array<uint8_t, 16>;

// IPv4 (also IPv4-mapped IPv6) keeps all 32 bits; IPv6 keeps its first 64.
SourceKey sourceKeyOf(const boost::asio::ip::address& address);

}  // namespace conclave::net
