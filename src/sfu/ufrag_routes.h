// A media worker's routing of STUN checks to transports by the local half of USERNAME (our
// ufrag). An ICE restart gives a transport new credentials; the checks of the old generation are
// still answered until the browser's first check with the new ones (ice::IceServer keeps the
// current and the previous credentials), so both must route during the switch. Older ones never
// authenticate again, so they are forgotten: a transport has at most two entries however often
// it restarts (each restart costs a client one signaling message), and removing a transport
// costs two look-ups, not a scan of the table.
//
// Local ufrags are the server's (48 random bits each); a collision would route to the transport
// registered last, as before, and never lets another transport's entry go.
//
// One thread (the worker's).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace conclave::transport {
class WebRtcTransport;
}

namespace conclave::sfu {

class UfragRoutes {
 public:
  // Entries one transport may hold: its current ufrag and the one before the last restart.
  static constexpr size_t kPerTransport = 2;

  // `ufrag` routes to `transport` (its first credentials, or new ones after an ICE restart). The
  // transport's entry before the previous one is dropped.
  void add(const std::string& ufrag, transport::WebRtcTransport* transport);
  // Every entry of `transport` goes.
  void remove(transport::WebRtcTransport* transport);
  transport::WebRtcTransport* find(std::string_view ufrag) const;
  size_t size() const { return mByUfrag.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void erase(const std::string& ufrag, transport::WebRtcTransport* transport);

  std::unordered_map<std::string, transport::WebRtcTransport*, Hash, std::equal_to<>> mByUfrag;
  // Per transport: [0] its current ufrag, [1] the previous one (empty: none).
  std::unordered_map<transport::WebRtcTransport*, std::array<std::string, kPerTransport>> mOf;
};

}  // namespace conclave::sfu
