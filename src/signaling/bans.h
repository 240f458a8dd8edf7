// The bans of meetings (issue 10): the sources that removed participants came from, so that they
// cannot come back into that meeting from there. A source (an IPv4 address or IPv6 /64,
// net::SourceKey) is kept only as a keyed hash whose key is random per process and never stored,
// so the table holds no address and nothing on disk can be matched against it. Bans live in
// memory for the meeting's life (and move with it).
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "net/source_key.h"

namespace conclave::signaling {

using BanKey = std::array<uint8_t, 16>;

class SourceHasher {
 public:
  SourceHasher();  // a random key
  explicit SourceHasher(std::vector<uint8_t> key) : mKey(std::move(key)) {}
  // HMAC-SHA256(key, source), the first 16 bytes.
  BanKey hash(const net::SourceKey& source) const;

 private:
  std::vector<uint8_t> mKey;
};

// One meeting's bans; bounded (a ban is one removal by a host, and a meeting has at most a few
// hundred removals before the oldest ban gives way).
class BanList {
 public:
  static constexpr size_t kMaxBans = 1000;

  void add(const BanKey& key);
  bool contains(const BanKey& key) const { return mKeys.count(key) > 0; }
  size_t size() const { return mKeys.size(); }

 private:
  std::set<BanKey> mKeys;
  std::vector<BanKey> mOrder;  // oldest first, for the bound
};

}  // namespace conclave::signaling
