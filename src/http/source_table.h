// Per-source accounting for the HTTPS front: how many connections and TLS handshakes each
// client network holds, so one source cannot take every slot (issue 7, finding 4).
//
// A source is a net::SourceKey (an IPv4 address or an IPv6 /64), held in memory only while it has
// a connection open, and never logged.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

#include "net/source_key.h"

namespace conclave::http {

using net::SourceKey;

class SourceTable {
 public:
  struct Limits {
    size_t maxConnections = 100;
    size_t maxHandshakes = 20;
  };
  explicit SourceTable(Limits limits) : mLimits(limits) {}

  // Counts a new connection from `source`; false (nothing counted) when it already has its share.
  bool tryOpen(const SourceKey& source);
  void close(const SourceKey& source);
  // TLS handshakes in progress: expensive for the server, cheap for the client.
  bool tryStartHandshake(const SourceKey& source);
  void endHandshake(const SourceKey& source);

  size_t connections(const SourceKey& source) const;
  size_t sourceCount() const { return mSources.size(); }
  const Limits& limits() const { return mLimits; }

 private:
  struct Counts {
    size_t connections = 0;
    size_t handshakes = 0;
  };
  void forgetIfIdle(std::map<SourceKey, Counts>::iterator it);

  Limits mLimits;
  std::map<SourceKey, Counts> mSources;
};

// One counted connection, released when destroyed; moves from the HTTP session to the
// WebSocket session that takes over its socket.
class SourceSlot {
 public:
  SourceSlot() = default;
  SourceSlot(SourceTable& table, const SourceKey& key) : mTable(&table), mKey(key) {}
  SourceSlot(SourceSlot&& other) noexcept : mTable(other.mTable), mKey(other.mKey), mHandshake(other.mHandshake) {
    other.mTable = nullptr;
    other.mHandshake = false;
  }
  SourceSlot& operator=(SourceSlot&& other) noexcept;
  SourceSlot(const SourceSlot&) = delete;
  SourceSlot& operator=(const SourceSlot&) = delete;
  ~SourceSlot() { release(); }

  bool startHandshake();
  void endHandshake();
  const SourceKey& key() const { return mKey; }

 private:
  void release();

  SourceTable* mTable = nullptr;
  SourceKey mKey{};
  bool mHandshake = false;
};

}  // namespace conclave::http
